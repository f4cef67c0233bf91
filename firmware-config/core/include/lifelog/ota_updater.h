#pragma once
// Firmware updates over the air, straight into the inactive app slot (docs/ota.md).
//   offer -> checks (version, minimum, slot size, key, signature) -> download in ranged chunks,
//   progress in NVS after each flushed sector -> read the slot back, SHA-256 and signature
//   -> set boot -> reboot -> new image in pending-verify -> first successful heartbeat that
//   reports the new version -> confirm; no such heartbeat within the deadline -> roll back.
// Every refusal happens before the boot partition changes and leaves a reason code for the
// heartbeat. The updater never blocks: step() moves at most a caller-given number of bytes,
// so capture and the watchdog keep their schedule between calls.
#include <cstddef>
#include <cstdint>

#include "kv_store.h"

namespace lifelog {

// The inactive app slot. On the board: esp_partition_* / esp_ota_* on the next update
// partition; on the host: memory that behaves like NOR flash (erase sets 0xFF, a write
// only clears bits).
class UpdatePartition {
 public:
  static constexpr uint32_t kSectorSize = 4096;
  virtual ~UpdatePartition() = default;
  virtual uint32_t size() = 0;
  virtual bool erase_sector(uint32_t offset) = 0;  // offset is a multiple of kSectorSize
  virtual bool write(uint32_t offset, const uint8_t* data, size_t len) = 0;
  virtual bool read(uint32_t offset, uint8_t* data, size_t len) = 0;
  // Boot this slot next (esp_ota_set_boot_partition): the image boots in pending-verify.
  virtual bool set_boot() = 0;
};

// What the bootloader knows of the running image (esp_ota_get_state_partition and friends).
class BootState {
 public:
  virtual ~BootState() = default;
  // The running image is new and not confirmed yet: a reset now boots the previous one.
  virtual bool pending_verify() = 0;
  // esp_ota_mark_app_valid_cancel_rollback
  virtual bool confirm() = 0;
  // esp_ota_mark_app_invalid_rollback_and_reboot: does not return on the board.
  virtual void rollback_and_reboot() = 0;
};

// Ranged reads of the offered image (an HTTP GET with Range on the board).
class ImageSource {
 public:
  enum class Result : uint8_t { Ok, LinkDown, Gone };
  virtual ~ImageSource() = default;
  // Up to len bytes from offset into buf; *got bytes arrived (also on LinkDown: a cut may
  // come mid-chunk), *total is the object's size as the server states it.
  virtual Result read(uint32_t offset, uint8_t* buf, size_t len, size_t* got, uint64_t* total) = 0;
};

constexpr size_t kOtaVersionMax = 20;
constexpr size_t kOtaKeyIdHex = 17;   // 16 hex digits + NUL
constexpr size_t kOtaShaHex = 65;
constexpr size_t kOtaSigHex = 129;

// An update as the heartbeat answer offers it.
struct OtaOffer {
  char version[kOtaVersionMax] = {};
  char min_version[kOtaVersionMax] = {};  // "" when any version may update
  uint32_t size = 0;
  char sha256[kOtaShaHex] = {};
  char signature[kOtaSigHex] = {};
  char key_id[kOtaKeyIdHex] = {};
};

// A public key the firmware trusts (built in). Two allow a key rotation.
struct OtaTrustedKey {
  uint8_t public_key[32];
};

struct OtaLimits {
  uint32_t chunk_bytes = 4096;              // one ranged read
  uint32_t persist_every_sectors = 4;       // NVS write per 16 KiB: ~200 per 3.3 MB image
  uint64_t confirm_deadline_ms = 10 * 60 * 1000;  // pending-verify without a good heartbeat
};

// Whether the camera can afford an update now (checked before a download starts or resumes).
struct OtaConditions {
  uint64_t card_free_bytes = UINT64_MAX;
  uint64_t card_reserve_bytes = 0;  // what captures need kept free
  bool battery_known = false;
  bool battery_low = false;
};

// As reported in the heartbeat (ota_state), matching the server's values.
enum class OtaState : uint8_t { Idle, Downloading, Downloaded, PendingVerify, Confirmed, RolledBack, Refused };
const char* ota_state_name(OtaState s);

enum class OtaStep : uint8_t {
  Idle,           // nothing to do
  Deferred,       // not now (card space, battery): try again later, nothing lost
  Working,        // call step() again
  LinkDown,       // the source failed; call step() again later: it resumes where it stopped
  Refused,        // the offer or the image was refused (report().error says why)
  ReadyToReboot,  // the slot is set to boot: restart the chip
};

struct OtaReport {
  OtaState state = OtaState::Idle;
  char version[kOtaVersionMax] = {};  // the release the state is about
  char error[49] = {};                // a reason code, "" when none
};

// "x.y.z" as three numbers; false for anything else.
bool parse_version(const char* text, uint32_t out[3]);
int compare_versions(const uint32_t a[3], const uint32_t b[3]);
// The signed message: "lifelog-firmware-v1\n<version>\n<size>\n<sha256>\n"; returns its length.
size_t ota_signed_message(const char* version, uint32_t size, const char* sha256, char* out, size_t cap);
// First 16 hex digits of the SHA-256 of the public key.
void ota_key_id(const uint8_t public_key[32], char out[kOtaKeyIdHex]);

class OtaUpdater {
 public:
  OtaUpdater(UpdatePartition& slot, BootState& boot, KeyValueStore& kv, const OtaTrustedKey* keys, size_t key_count,
             const char* running_version, const OtaLimits& limits = OtaLimits());

  // Once per boot, before the first heartbeat: learns whether this image waits for its
  // confirmation, or whether the bootloader went back to the previous image.
  void on_boot(uint64_t now_ms);
  // The heartbeat offered this update. Refuses it, defers it, or starts / resumes the download.
  OtaStep offer(const OtaOffer& offer, const OtaConditions& conditions);
  // Moves at most max_bytes (rounded up to one chunk), then returns.
  OtaStep step(ImageSource& source, uint32_t max_bytes);
  // A heartbeat that reported `reported_version` was answered 200.
  void on_heartbeat_ok(const char* reported_version);
  // Rolls back a pending-verify image past its deadline (call from the main loop).
  void tick(uint64_t now_ms);

  const OtaReport& report() const { return report_; }
  uint32_t bytes_done() const { return done_; }
  // Bytes the source delivered since this object was made (for the tests' accounting).
  uint64_t bytes_fetched() const { return fetched_; }
  bool downloading() const { return active_; }

 private:
  OtaStep refuse(const char* version, const char* reason);
  bool check_signature(const OtaOffer& o) const;
  OtaStep finish_download();
  void persist_progress();
  void forget_download();
  void set_report(OtaState state, const char* version, const char* error);
  bool was_rolled_back(const char* version);

  UpdatePartition& slot_;
  BootState& boot_;
  KeyValueStore& kv_;
  const OtaTrustedKey* keys_;
  size_t key_count_;
  char running_[kOtaVersionMax] = {};
  OtaLimits limits_;
  OtaOffer target_;
  bool active_ = false;
  uint32_t done_ = 0;
  uint32_t persisted_ = 0;
  uint64_t fetched_ = 0;
  bool pending_ = false;
  uint64_t boot_ms_ = 0;
  OtaReport report_;
};

}  // namespace lifelog
