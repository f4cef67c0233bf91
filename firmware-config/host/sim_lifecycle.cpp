#include "sim_lifecycle.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

using namespace lifelog;

const char* const kLifecycleUsage =
    "  --heartbeat              accepted for old scripts: the camera always reports to\n"
    "                           /devices/heartbeat and obeys the owner's pause and interval\n"
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
  if (a == "--heartbeat") return true;
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

HeartbeatConfig heartbeat_config(const SimLifecycleOptions& o) {
  HeartbeatConfig c;
  c.max_interval_ms = uint32_t(o.heartbeat_max_ms);
  c.min_gap_ms = uint32_t(o.heartbeat_gap_ms);
  c.backoff.base_ms = 500;
  c.backoff.cap_ms = 30000;
  return c;
}

static std::string num(uint64_t v) { return "#" + std::to_string(v); }

void LifecycleLog::on_lifecycle_event(const LifecycleEvent& e) {
  const char* name = lifecycle_event_name(e.kind);
  // "token_dead" is the loop's own last line; this one says which route found out.
  if (e.kind == LifecycleEventKind::TokenDead) name = "heartbeat_refused";
  log_(name, {{"status", num(uint64_t(e.http_status))}, {"code", e.code},
              {"paused", e.paused ? "?true" : "?false"}, {"interval_s", num(e.interval_s)},
              {"delay_ms", num(e.delay_ms)}});
}

void LifecycleLog::show_paused(bool paused) { log_("privacy_indicator", {{"paused", paused ? "?true" : "?false"}}); }
