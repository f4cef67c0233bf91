#pragma once
// The camera's main loop, the same on the board and in sim-camera: every decision of a loop turn
// (capture when due, also while a PUT runs; the owner's pause and interval; activation and its
// retry; heartbeat, rotation and a refused token; the upload step; time correction after NTP; when
// the setup portal opens; status lines; feeding the watchdog). The platform gives it narrow
// adapters (card, NVS, HTTP connections, clock, camera, watchdog, network link, portal, status
// light, an event sink) and sleeps until the time turn() says; what differs between platforms is
// I/O, never behaviour.
//
// One thread: a turn captures when the slot is due and otherwise runs one Uploader::step(), which
// sends at most one exchange. From inside a step (IoListener, after every bounded network wait)
// the watchdog is fed and a due capture is taken, so a slow PUT neither resets the camera nor
// stops its rhythm; the photo being sent is protected from eviction, and one frame buffer is never
// touched by two tasks.
#include <cstdint>

#include "activation_key.h"
#include "backoff.h"
#include "camera.h"
#include "capture_queue.h"
#include "card_mount.h"
#include "clock.h"
#include "device_api.h"
#include "file_system.h"
#include "first_contact.h"
#include "heartbeat.h"
#include "http.h"
#include "kv_store.h"
#include "lifecycle_api.h"
#include "ota_offer.h"
#include "ota_updater.h"
#include "portal_policy.h"
#include "remote_settings.h"
#include "rng.h"
#include "seq_allocator.h"
#include "token_rotation.h"
#include "uploader.h"
#include "watchdog.h"

namespace lifelog {

constexpr const char* kFramesDoneKey = "frames_done";

// The card's slot: (re)mounting it. On the board SD.begin on SPI; a folder on a host.
class CardSlot {
 public:
  virtual ~CardSlot() = default;
  virtual bool mount() = 0;
  virtual void unmount() = 0;
};

// The uplink (Wi-Fi on the board). maintain() never blocks.
class NetworkLink {
 public:
  virtual ~NetworkLink() = default;
  virtual void maintain(uint64_t now_ms) = 0;
  virtual bool connected() = 0;
  // Networks it knows how to join (the portal opens at boot when there are none and no token).
  virtual bool has_networks() = 0;
  virtual const char* name() = 0;  // the network joined, for status lines
};

// The setup portal and the button that asks for it.
class SetupPortal {
 public:
  virtual ~SetupPortal() = default;
  // Blocks until the form is saved (true: networks or a pairing code may have changed, and the
  // platform has applied them) or the portal times out (false). Feeds the watchdog meanwhile.
  virtual bool run(TokenState token) = 0;
  virtual bool button_down() = 0;
};

class StatusLight {
 public:
  virtual ~StatusLight() = default;
  virtual void card_failed() = 0;  // no usable card: captures paused
  virtual void tick(uint64_t now_ms) = 0;
};

enum class LoopEventKind : uint8_t {
  CardMounted,            // count: pending photos
  CardFailed,             // text: why; retried every card_retry_ms
  CardRemounted,          // after a read error mid-upload; ok says how it went
  CaptureBegin,           // a capture starts (for meters)
  Captured,               // record
  CaptureFailed,          // capture says why (no card: CardFailed)
  Evicted,                // count evicted now, total dropped so far
  ClockSynced,            // count: timestamps corrected
  Activated,              // text: device id
  ActivationNoCode,       // no token and no pairing code: the portal is needed
  ActivationRetry,        // status, code, delay_ms
  ActivationRefused,      // status, code; waits for a new code
  ActivationStoreFailed,  // NVS refused the token; retried
  UploadTokenRefused,     // the uploader got 401: the heartbeat asks whether another token works
  TokenDead,              // count: pending photos. No token is accepted (revoked): right after this
                          // event the token is forgotten (unless the host stopped the loop) and a
                          // new pairing code is needed; captures go on
  PortalClosed,           // timed out without a change
  PortalSaved,
  StepBegin,              // an upload step starts (for meters)
  StepEnd,                // step, ms
  Status,                 // status
  Ota,                    // the update's report changed, or ok false: a ranged read failed (retried).
                          // text state, code error, count bytes in the slot, total bytes fetched
  OtaProgress,            // after each download step: count bytes in the slot, total bytes fetched this boot
  RebootForUpdate,        // text: version. The new image is set to boot: the platform restarts now
};
const char* loop_event_name(LoopEventKind k);

struct LoopStatus {
  bool online = false;
  const char* network = "";
  bool has_token = false;
  bool card_ready = false;
  uint32_t pending = 0;
  const char* link_error = "";  // "" when the last connection worked
};

struct LoopEvent {
  LoopEventKind kind;
  const char* text = "";
  uint32_t count = 0;
  uint32_t total = 0;
  bool ok = false;
  int http_status = 0;
  const char* code = "";
  uint32_t delay_ms = 0;
  uint64_t ms = 0;
  StepResult step = StepResult::Idle;
  CaptureStatus capture = CaptureStatus::Ok;
  uint32_t frame = 0;
  const ManifestRecord* record = nullptr;
  const LoopStatus* status = nullptr;
};

class LoopObserver {
 public:
  virtual ~LoopObserver() = default;
  virtual void on_loop_event(const LoopEvent& e) = 0;
};

struct DevicePlatform {
  FileSystem& card;
  CardSlot& slot;
  KeyValueStore& kv;
  HttpConnection& api;      // the board passes one connection for both (one TLS session)
  HttpConnection& storage;
  NetClient& net;           // for its last_error() in status lines and the heartbeat
  Clock& clock;
  Camera& camera;
  Watchdog& watchdog;
  NetworkLink& link;
  SetupPortal& portal;
  StatusLight& light;
  Rng& entropy;  // the activation key (a hardware RNG)
  Rng& jitter;   // backoff jitter
  LoopObserver& log;
  UploadObserver* upload_log = nullptr;
  LifecycleObserver* lifecycle_log = nullptr;
  PrivacyIndicator* privacy = nullptr;
  // Updates over the air: null when the platform cannot update. Built by the platform over its
  // UpdatePartition and BootState (the running image's version and the trusted keys in it); the
  // image is read in ranges over ota_http (null: the storage connection).
  OtaUpdater* ota = nullptr;
  HttpConnection* ota_http = nullptr;
};

struct DeviceLoopConfig {
  ApiEndpoint endpoint;
  uint32_t boot_id = 0;
  uint64_t capture_interval_ms = 30000;  // built in; the owner's interval replaces it
  // Stop capturing after this many frames in total, across boots (0: never). A test harness's
  // bound; the board leaves it 0.
  uint32_t capture_limit = 0;
  UploaderConfig upload;  // the loop sets token, boot id, io listener and card remount
  QueueConfig queue;
  HeartbeatConfig heartbeat;
  BackoffConfig activation_backoff;
  uint32_t card_retry_ms = 10000;
  uint32_t no_code_recheck_ms = 60000;
  uint32_t status_every_ms = 60000;
  uint32_t long_press_ms = 5000;  // the button held this long while running opens the portal
  // Each time the link comes up, the first API call waits a random 0..this (first_contact.h).
  uint32_t first_contact_spread_ms = 0;
  // One update step per turn moves at most this many bytes (then captures and uploads go on).
  uint32_t ota_step_bytes = 16384;
  // Free card space an update leaves to captures, beyond the queue's own min_free_bytes.
  uint64_t ota_card_reserve_bytes = 4 * 1024 * 1024;
  uint32_t ota_retry_ms = 2000;  // after a failed ranged read
};

struct TurnResult {
  bool stepped = false;  // an upload step ran this turn
  StepResult step = StepResult::Idle;
  uint64_t wake_at_ms = 0;  // nothing is due before this (the platform may wake earlier)
};

class DeviceLoop : private IoListener, private CardMount, private UploadObserver, private LifecycleObserver {
 public:
  DeviceLoop(DevicePlatform& p, const DeviceLoopConfig& cfg);

  // Once at boot: the watchdog first (everything after it, the portal included, feeds it), the
  // portal when the camera cannot get going without it, the card, the tokens and owner settings.
  void begin();
  TurnResult turn();

  // The host ends the loop at an event: the turn returns at once and does nothing more.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  void request_rotation() { lifecycle_.request_rotation(); }

  bool has_token() const { return tokens_.has_token(); }
  bool card_ready() const { return card_ready_; }
  bool capturing() const { return cfg_.capture_limit == 0 || frames_ < cfg_.capture_limit; }
  uint32_t frames() const { return frames_; }
  CaptureQueue& queue() { return queue_; }
  const Uploader& uploader() const { return uploader_; }
  const RemoteSettings& owner_settings() const { return lifecycle_.settings(); }
  LoopStatus status();

 private:
  void on_io(uint64_t now_ms) override;
  bool remount() override;
  void on_upload_event(const UploadEvent& e) override;
  void on_lifecycle_event(const LifecycleEvent& e) override;

  void emit(LoopEvent e) { p_.log.on_loop_event(e); }
  TokenState token_state() const { return has_token() ? TokenState::Held : TokenState::None; }
  void open_portal_if_needed();
  void open_portal();
  void check_long_press(uint64_t now);
  bool try_mount_card();
  void card_failed(const char* why);
  bool capture_if_due(uint64_t now);
  void capture_once();
  void try_activation(uint64_t now);
  void run_lifecycle_step(uint64_t now);
  void run_upload_step(TurnResult* t);
  void after_heartbeat(uint32_t ok_before, const char* reported_version);
  void run_ota_step();
  void ota_result(OtaStep step);
  void emit_ota_if_changed(bool link_down = false);
  uint64_t wake_at(uint64_t now, const TurnResult& t, bool online);

  DevicePlatform& p_;
  DeviceLoopConfig cfg_;
  DeviceApi api_;
  SeqAllocator seqs_;
  CaptureQueue queue_;
  Uploader uploader_;
  FirstContactSpread first_contact_;
  Backoff activation_backoff_;
  TokenKeeper tokens_;
  LifecycleApi lifecycle_api_;
  DeviceLifecycle lifecycle_;

  StepResult last_step_ = StepResult::Idle;
  char last_error_[64] = {};  // the last upload failure, for the heartbeat's report
  uint32_t frames_ = 0;
  bool card_ready_ = false;
  bool uploading_ = false;
  bool card_failed_later_ = false;  // a capture inside a step failed to write: handled after it
  bool settings_changed_ = false;
  bool stopped_ = false;
  uint64_t next_capture_ms_ = 0;
  uint64_t last_capture_ms_ = 0;
  uint64_t next_card_try_ms_ = 0;
  uint64_t next_activation_ms_ = 0;
  uint64_t button_down_since_ms_ = 0;
  uint64_t next_status_ms_ = 0;
  OtaDownload ota_download_;  // where the offered image is (each heartbeat's offer refreshes it)
  bool ota_working_ = false;
  uint64_t ota_next_ms_ = 0;
  OtaReport ota_last_;
};

}  // namespace lifelog
