#include "lifelog/ota_updater.h"

#include <sodium.h>

#include <cstdio>
#include <cstring>

#include "lifelog/sha256.h"

namespace lifelog {

namespace {

// NVS keys (at most 15 characters). The download's target and progress:
constexpr const char* kTargetVersion = "ota_ver";
constexpr const char* kTargetSize = "ota_size";
constexpr const char* kTargetSha = "ota_sha";
constexpr const char* kDone = "ota_done";
// The image set to boot: its version, and "1" once set_boot succeeded.
constexpr const char* kInstalled = "ota_inst";
constexpr const char* kArmed = "ota_armed";
// A version that was rolled back here: never downloaded again.
constexpr const char* kBadVersion = "ota_bad";
// The last report, so it survives the reboots it is about.
constexpr const char* kReportState = "ota_st";
constexpr const char* kReportVersion = "ota_rv";
constexpr const char* kReportError = "ota_er";

constexpr size_t kBufferBytes = 4096;
// One chunk, in static storage (the loop task's stack is small); one updater runs at a time.
uint8_t g_buffer[kBufferBytes];

void copy(char* dst, size_t cap, const char* src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

bool from_hex(const char* hex, uint8_t* out, size_t n) {
  if (strlen(hex) != 2 * n) return false;
  for (size_t i = 0; i < n; ++i) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      char c = hex[2 * i + k];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else return false;
    }
    out[i] = uint8_t(v);
  }
  return true;
}

}  // namespace

const char* ota_state_name(OtaState s) {
  switch (s) {
    case OtaState::Idle: return "idle";
    case OtaState::Downloading: return "downloading";
    case OtaState::Downloaded: return "downloaded";
    case OtaState::PendingVerify: return "pending_verify";
    case OtaState::Confirmed: return "confirmed";
    case OtaState::RolledBack: return "rolled_back";
    case OtaState::Refused: return "refused";
  }
  return "idle";
}

bool parse_version(const char* text, uint32_t out[3]) {
  if (!text) return false;
  const char* p = text;
  for (int i = 0; i < 3; ++i) {
    if (*p < '0' || *p > '9') return false;
    uint32_t v = 0;
    int digits = 0;
    while (*p >= '0' && *p <= '9') {
      if (++digits > 6) return false;
      v = v * 10 + uint32_t(*p++ - '0');
    }
    out[i] = v;
    if (i < 2 && *p++ != '.') return false;
  }
  return *p == '\0';
}

int compare_versions(const uint32_t a[3], const uint32_t b[3]) {
  for (int i = 0; i < 3; ++i) {
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

size_t ota_signed_message(const char* version, uint32_t size, const char* sha256, char* out, size_t cap) {
  int n = snprintf(out, cap, "lifelog-firmware-v1\n%s\n%lu\n%s\n", version, static_cast<unsigned long>(size), sha256);
  return n < 0 || size_t(n) >= cap ? 0 : size_t(n);
}

void ota_key_id(const uint8_t public_key[32], char out[kOtaKeyIdHex]) {
  Sha256 h;
  h.update(public_key, 32);
  char hex[Sha256::kHexSize];
  h.finish_hex(hex);
  memcpy(out, hex, kOtaKeyIdHex - 1);
  out[kOtaKeyIdHex - 1] = '\0';
}

OtaUpdater::OtaUpdater(UpdatePartition& slot, BootState& boot, KeyValueStore& kv, const OtaTrustedKey* keys,
                       size_t key_count, const char* running_version, const OtaLimits& limits)
    : slot_(slot), boot_(boot), kv_(kv), keys_(keys), key_count_(key_count), limits_(limits) {
  copy(running_, sizeof running_, running_version);
  if (limits_.chunk_bytes == 0 || limits_.chunk_bytes > kBufferBytes) limits_.chunk_bytes = kBufferBytes;
  if (limits_.persist_every_sectors == 0) limits_.persist_every_sectors = 1;
  if (sodium_init() < 0) key_count_ = 0;  // no verifier: every offer is refused (unknown_key)
  uint32_t state = 0;
  if (kv_.get_u32(kReportState, &state) && state <= uint32_t(OtaState::Refused)) {
    report_.state = OtaState(state);
    kv_.get_str(kReportVersion, report_.version, sizeof report_.version);
    kv_.get_str(kReportError, report_.error, sizeof report_.error);
  }
}

void OtaUpdater::set_report(OtaState state, const char* version, const char* error) {
  report_.state = state;
  copy(report_.version, sizeof report_.version, version);
  copy(report_.error, sizeof report_.error, error);
  kv_.put_str(kReportVersion, report_.version);
  kv_.put_str(kReportError, report_.error);
  kv_.put_u32(kReportState, uint32_t(state));
}

void OtaUpdater::on_boot(uint64_t now_ms) {
  boot_ms_ = now_ms;
  char installed[kOtaVersionMax] = {};
  kv_.get_str(kInstalled, installed, sizeof installed);
  if (boot_.pending_verify()) {
    pending_ = true;
    set_report(OtaState::PendingVerify, running_, "");
    return;
  }
  if (!installed[0]) return;
  uint32_t armed = 0;
  kv_.get_u32(kArmed, &armed);
  if (strcmp(installed, running_) == 0) {
    // confirmed, and the cut came before the record was tidied away
    if (report_.state != OtaState::Confirmed) set_report(OtaState::Confirmed, running_, "");
  } else if (armed) {
    // The new image was set to boot but the previous one runs: the bootloader went back
    // (a reset before the confirm), or the new image gave up (tick) and said why.
    bool said_why = report_.state == OtaState::RolledBack && strcmp(report_.version, installed) == 0 && report_.error[0];
    kv_.put_str(kBadVersion, installed);
    if (!said_why) set_report(OtaState::RolledBack, installed, "reset_before_confirm");
  }
  kv_.erase(kArmed);
  kv_.erase(kInstalled);
}

bool OtaUpdater::was_rolled_back(const char* version) {
  char bad[kOtaVersionMax] = {};
  return kv_.get_str(kBadVersion, bad, sizeof bad) && strcmp(bad, version) == 0;
}

OtaStep OtaUpdater::refuse(const char* version, const char* reason) {
  set_report(OtaState::Refused, version, reason);
  return OtaStep::Refused;
}

bool OtaUpdater::check_signature(const OtaOffer& o) const {
  uint8_t signature[crypto_sign_BYTES];
  if (!from_hex(o.signature, signature, sizeof signature)) return false;
  char message[160];
  size_t len = ota_signed_message(o.version, o.size, o.sha256, message, sizeof message);
  if (len == 0) return false;
  for (size_t i = 0; i < key_count_; ++i) {
    char id[kOtaKeyIdHex];
    ota_key_id(keys_[i].public_key, id);
    if (strcmp(id, o.key_id) != 0) continue;
    return crypto_sign_verify_detached(signature, reinterpret_cast<const unsigned char*>(message), len,
                                       keys_[i].public_key) == 0;
  }
  return false;
}

OtaStep OtaUpdater::offer(const OtaOffer& o, const OtaConditions& c) {
  if (pending_) return OtaStep::Idle;  // this image confirms (or rolls back) first
  uint32_t offered[3], running[3], minimum[3];
  if (!parse_version(o.version, offered)) return refuse(o.version, "bad_version");
  if (parse_version(running_, running) && compare_versions(offered, running) <= 0) return refuse(o.version, "not_newer");
  if (o.min_version[0]) {
    if (!parse_version(o.min_version, minimum)) return refuse(o.version, "bad_version");
    if (!parse_version(running_, running) || compare_versions(running, minimum) < 0) {
      return refuse(o.version, "below_min_version");
    }
  }
  if (was_rolled_back(o.version)) return refuse(o.version, "rolled_back_before");
  if (o.size == 0 || o.size > slot_.size()) return refuse(o.version, "too_large");
  uint8_t sha[32];
  if (!from_hex(o.sha256, sha, sizeof sha)) return refuse(o.version, "bad_sha256");
  bool known_key = false;
  for (size_t i = 0; i < key_count_; ++i) {
    char id[kOtaKeyIdHex];
    ota_key_id(keys_[i].public_key, id);
    known_key = known_key || strcmp(id, o.key_id) == 0;
  }
  if (!known_key) return refuse(o.version, "unknown_key");
  if (!check_signature(o)) return refuse(o.version, "bad_signature");
  if (c.card_free_bytes < c.card_reserve_bytes) return OtaStep::Deferred;
  if (c.battery_known && c.battery_low) return OtaStep::Deferred;

  if (active_ && strcmp(target_.version, o.version) == 0 && target_.size == o.size && strcmp(target_.sha256, o.sha256) == 0) {
    target_ = o;  // same image; keep the newer fields
    return OtaStep::Working;
  }
  target_ = o;
  char version[kOtaVersionMax] = {}, stored_sha[kOtaShaHex] = {};
  uint32_t size = 0, done = 0;
  bool same = kv_.get_str(kTargetVersion, version, sizeof version) && strcmp(version, o.version) == 0 &&
              kv_.get_u32(kTargetSize, &size) && size == o.size &&
              kv_.get_str(kTargetSha, stored_sha, sizeof stored_sha) && strcmp(stored_sha, o.sha256) == 0 &&
              kv_.get_u32(kDone, &done) && done <= o.size && (done % UpdatePartition::kSectorSize == 0 || done == o.size);
  if (same) {
    done_ = persisted_ = done;
  } else {
    done_ = persisted_ = 0;
    // The progress first goes to zero, then the target changes: a cut in between cannot
    // pair the old progress with the new image.
    kv_.put_u32(kDone, 0);
    kv_.put_str(kTargetVersion, o.version);
    kv_.put_u32(kTargetSize, o.size);
    kv_.put_str(kTargetSha, o.sha256);
  }
  active_ = true;
  set_report(OtaState::Downloading, o.version, "");
  return OtaStep::Working;
}

void OtaUpdater::persist_progress() {
  if (kv_.put_u32(kDone, done_)) persisted_ = done_;
}

void OtaUpdater::forget_download() {
  active_ = false;
  done_ = persisted_ = 0;
  kv_.erase(kDone);
  kv_.erase(kTargetVersion);
  kv_.erase(kTargetSize);
  kv_.erase(kTargetSha);
}

OtaStep OtaUpdater::step(ImageSource& source, uint32_t max_bytes) {
  if (!active_) return OtaStep::Idle;
  uint8_t* buf = g_buffer;
  constexpr uint32_t kSector = UpdatePartition::kSectorSize;
  uint32_t moved = 0;
  while (done_ < target_.size && (moved < max_bytes || moved == 0)) {
    if (done_ % kSector == 0 && !slot_.erase_sector(done_)) {
      forget_download();
      return refuse(target_.version, "flash_error");
    }
    uint32_t len = limits_.chunk_bytes;
    uint32_t to_sector_end = kSector - done_ % kSector;
    if (len > to_sector_end) len = to_sector_end;
    if (len > target_.size - done_) len = target_.size - done_;
    size_t got = 0;
    uint64_t total = target_.size;
    ImageSource::Result r = source.read(done_, buf, len, &got, &total);
    if (got > len) got = len;
    fetched_ += got;
    if (got > 0 && total != target_.size) {
      forget_download();
      return refuse(target_.version, "size_mismatch");
    }
    if (got > 0) {
      if (!slot_.write(done_, buf, got)) {
        forget_download();
        return refuse(target_.version, "flash_error");
      }
      uint32_t before = done_;
      done_ += uint32_t(got);
      moved += uint32_t(got);
      bool sector_done = done_ % kSector == 0 && done_ / kSector != before / kSector;
      if (sector_done && (done_ / kSector) % limits_.persist_every_sectors == 0) persist_progress();
    }
    if (r != ImageSource::Result::Ok || got == 0) return OtaStep::LinkDown;
  }
  if (done_ < target_.size) return OtaStep::Working;
  return finish_download();
}

OtaStep OtaUpdater::finish_download() {
  persist_progress();  // a cut during the check below resumes with the check, not the download
  Sha256 h;
  uint8_t* buf = g_buffer;
  for (uint32_t off = 0; off < target_.size; off += kBufferBytes) {
    uint32_t len = target_.size - off < kBufferBytes ? target_.size - off : kBufferBytes;
    if (!slot_.read(off, buf, len)) {
      forget_download();
      return refuse(target_.version, "flash_error");
    }
    h.update(buf, len);
  }
  char hex[Sha256::kHexSize];
  h.finish_hex(hex);
  if (strcmp(hex, target_.sha256) != 0) {
    forget_download();
    return refuse(target_.version, "sha256_mismatch");
  }
  if (!check_signature(target_)) {
    forget_download();
    return refuse(target_.version, "bad_signature");
  }
  set_report(OtaState::Downloaded, target_.version, "");
  if (!kv_.put_str(kInstalled, target_.version)) return OtaStep::LinkDown;  // NVS refused: try again later
  if (!slot_.set_boot()) {
    kv_.erase(kInstalled);
    forget_download();
    return refuse(target_.version, "set_boot_failed");
  }
  kv_.put_u32(kArmed, 1);
  forget_download();
  return OtaStep::ReadyToReboot;
}

void OtaUpdater::on_heartbeat_ok(const char* reported_version) {
  if (!pending_ || strcmp(reported_version, running_) != 0) return;
  if (!boot_.confirm()) return;
  pending_ = false;
  set_report(OtaState::Confirmed, running_, "");
  kv_.erase(kArmed);
  kv_.erase(kInstalled);
}

void OtaUpdater::tick(uint64_t now_ms) {
  if (!pending_ || now_ms - boot_ms_ < limits_.confirm_deadline_ms) return;
  set_report(OtaState::RolledBack, running_, "no_heartbeat_on_new_image");
  kv_.put_str(kBadVersion, running_);
  boot_.rollback_and_reboot();
}

}  // namespace lifelog
