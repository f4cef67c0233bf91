#include "sim_lifecycle.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

using namespace lifelog;

const char* const kLifecycleUsage =
    "  --heartbeat              report status to /devices/heartbeat and obey pause/interval\n"
    "  --heartbeat-max-ms N     call again after at most N ms, whatever the server says\n"
    "  --heartbeat-gap-ms N     least time between heartbeats after drains (default 10000)\n"
    "  --rotate-now             rotate the device token after the first heartbeat\n"
    "  --crash-at WHEN:KEY      SIGKILL itself before/after the first NVS write of KEY\n"
    "                           (token_next, device_token), e.g. after:token_next\n";

static bool parse_ms(const char* s, uint64_t* out) {
  if (!s || !*s || *s == '-') return false;
  char* end = nullptr;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end) return false;
  *out = v;
  return true;
}

bool parse_lifecycle_flag(int argc, char** argv, int* i, SimLifecycleOptions* o, bool* bad) {
  std::string a = argv[*i];
  const char* v = *i + 1 < argc ? argv[*i + 1] : nullptr;
  *bad = false;
  if (a == "--heartbeat") {
    o->heartbeat = true;
    return true;
  }
  if (a == "--rotate-now") {
    o->rotate_now = true;
    return true;
  }
  if (a == "--heartbeat-max-ms" || a == "--heartbeat-gap-ms") {
    uint64_t ms = 0;
    if (!parse_ms(v, &ms) || ms > UINT32_MAX) {
      *bad = true;
      return true;
    }
    (a == "--heartbeat-max-ms" ? o->heartbeat_max_ms : o->heartbeat_gap_ms) = ms;
    ++*i;
    return true;
  }
  if (a == "--crash-at") {
    std::string spec = v ? v : "";
    if (spec != "before:token_next" && spec != "after:token_next" && spec != "before:device_token" &&
        spec != "after:device_token") {
      *bad = true;
      return true;
    }
    o->crash_at = spec;
    ++*i;
    return true;
  }
  return false;
}

CrashingKv::CrashingKv(KeyValueStore& inner, const std::string& spec) : inner_(inner) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return;
  after_ = spec.substr(0, colon) == "after";
  key_ = spec.substr(colon + 1);
}

void CrashingKv::maybe_crash(const char* key, bool after) {
  if (key_.empty() || key_ != key || after_ != after) return;
  fflush(stdout);
  kill(getpid(), SIGKILL);  // a power cut: no destructors, no flushing of anything else
}

bool CrashingKv::put_str(const char* key, const char* value) {
  maybe_crash(key, false);
  bool ok = inner_.put_str(key, value);
  maybe_crash(key, true);
  return ok;
}
bool CrashingKv::put_u32(const char* key, uint32_t value) { return inner_.put_u32(key, value); }
bool CrashingKv::put_u64(const char* key, uint64_t value) { return inner_.put_u64(key, value); }
bool CrashingKv::erase(const char* key) { return inner_.erase(key); }

static HeartbeatConfig heartbeat_config(const SimLifecycleOptions& o) {
  HeartbeatConfig c;
  c.max_interval_ms = uint32_t(o.heartbeat_max_ms);
  c.min_gap_ms = uint32_t(o.heartbeat_gap_ms);
  c.backoff.base_ms = 500;
  c.backoff.cap_ms = 30000;
  return c;
}

SimLifecycle::SimLifecycle(const SimLifecycleOptions& o, KeyValueStore& kv, HttpConnection& conn,
                           const ApiEndpoint& endpoint, Clock& clock, Rng& rng, SimEventLog log)
    : o_(o), token_kv_(kv, o.crash_at), api_(conn, endpoint), tokens_(token_kv_),
      life_(api_, tokens_, kv, clock, rng, heartbeat_config(o), this, this), clock_(clock), log_(std::move(log)) {}

void SimLifecycle::begin(UploadObserver* forward) {
  forward_ = forward;
  tokens_.begin();
  life_.begin();
  if (o_.rotate_now) life_.request_rotation();
}

SimLifecycle::Tick SimLifecycle::tick(StepResult upload, CaptureQueue& queue) {
  StepResult before = last_upload_;
  last_upload_ = upload;
  if (upload == StepResult::TokenDead) {
    life_.check_token_now();  // learn from the server whether the other token works
  } else if (!o_.heartbeat) {
    return Tick::Nothing;
  } else if (upload == StepResult::Idle && before != StepResult::Idle) {
    life_.after_drain();
  }
  if (!life_.due()) return Tick::Nothing;
  StatusReport r;
  r.firmware_version = kFirmwareVersion;
  r.free_bytes = queue.file_system().free_bytes();
  r.queue_depth = queue.pending_count();
  r.dropped = queue.dropped();
  r.quarantined = queue.failed_count();
  r.last_error = last_error_.c_str();
  r.uptime_s = clock_.monotonic_ms() / 1000;
  r.clock_synced = clock_.wall_synced();
  settings_changed_ = false;
  LifecycleStep s = life_.step(r);
  if (s == LifecycleStep::TokenDead) return Tick::TokenDead;
  if (s == LifecycleStep::TokenChanged) return Tick::TokenChanged;
  return settings_changed_ ? Tick::SettingsChanged : Tick::Nothing;
}

static std::string num(uint64_t v) { return "#" + std::to_string(v); }

void SimLifecycle::on_lifecycle_event(const LifecycleEvent& e) {
  if (e.kind == LifecycleEventKind::SettingsChanged) settings_changed_ = true;
  const char* name = lifecycle_event_name(e.kind);
  // "token_dead" is the loop's own last line; this one says which route found out.
  if (e.kind == LifecycleEventKind::TokenDead) name = "heartbeat_refused";
  log_(name, {{"status", num(uint64_t(e.http_status))}, {"code", e.code},
              {"paused", e.paused ? "?true" : "?false"}, {"interval_s", num(e.interval_s)},
              {"delay_ms", num(e.delay_ms)}});
}

void SimLifecycle::show_paused(bool paused) { log_("privacy_indicator", {{"paused", paused ? "?true" : "?false"}}); }

void SimLifecycle::on_upload_event(const UploadEvent& e) {
  if (e.kind == UploadEventKind::Retry || e.kind == UploadEventKind::Quarantined) {
    last_error_ = std::string(e.step) + ": HTTP " + std::to_string(e.http_status) + " " + e.code;
  } else if (e.kind == UploadEventKind::Ingested || e.kind == UploadEventKind::Duplicate) {
    last_error_.clear();
  }
  if (forward_) forward_->on_upload_event(e);
}
