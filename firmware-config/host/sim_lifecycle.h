#pragma once
// sim-camera's lifecycle flags (the heartbeat's tunables, --rotate-now) and power cuts at chosen
// points of a rotation (--crash-at). The heartbeat, the owner's pause and interval and rotation
// themselves are the device loop's (core/include/lifelog/device_loop.h).
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "lifelog/heartbeat.h"
#include "lifelog/kv_store.h"

struct SimLifecycleOptions {
  // --heartbeat is accepted and changes nothing: the loop always reports, as the board does.
  uint64_t heartbeat_max_ms = 0; // --heartbeat-max-ms: cap the server's "call again in"
  uint64_t heartbeat_gap_ms = 10000;  // --heartbeat-gap-ms: least time between drain heartbeats
  bool rotate_now = false;       // --rotate-now: rotate the token after the first heartbeat
  std::string crash_at;          // --crash-at before:KEY | after:KEY (token_next, device_token)
};

// Consumes argv[*i] (and its value) when it is one of the flags above. *bad: it was ours
// but its value is wrong.
bool parse_lifecycle_flag(int argc, char** argv, int* i, SimLifecycleOptions* o, bool* bad);
extern const char* const kLifecycleUsage;

using SimEventLog = std::function<void(const char* name, std::initializer_list<std::pair<const char*, std::string>>)>;

// The KeyValueStore the token keeper writes through: SIGKILLs this process (a power cut)
// just before or just after the first write of one key, as --crash-at says.
class CrashingKv : public lifelog::KeyValueStore {
 public:
  CrashingKv(lifelog::KeyValueStore& inner, const std::string& spec);
  bool get_str(const char* key, char* out, size_t cap) override { return inner_.get_str(key, out, cap); }
  bool put_str(const char* key, const char* value) override;
  bool get_u32(const char* key, uint32_t* out) override { return inner_.get_u32(key, out); }
  bool put_u32(const char* key, uint32_t value) override;
  bool get_u64(const char* key, uint64_t* out) override { return inner_.get_u64(key, out); }
  bool put_u64(const char* key, uint64_t value) override;
  bool erase(const char* key) override;

 private:
  void maybe_crash(const char* key, bool after);
  lifelog::KeyValueStore& inner_;
  std::string key_;
  bool after_ = false;
};

// The heartbeat's tunables from the flags above (the board keeps HeartbeatConfig's defaults).
lifelog::HeartbeatConfig heartbeat_config(const SimLifecycleOptions& o);

// Heartbeat, rotation and the privacy indicator as log lines.
class LifecycleLog : public lifelog::LifecycleObserver, public lifelog::PrivacyIndicator {
 public:
  explicit LifecycleLog(SimEventLog log) : log_(std::move(log)) {}
  void on_lifecycle_event(const lifelog::LifecycleEvent& e) override;
  void show_paused(bool paused) override;

 private:
  SimEventLog log_;
};
