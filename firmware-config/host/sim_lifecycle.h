#pragma once
// sim-camera's device lifecycle: heartbeat, the owner's pause and interval, token rotation,
// and power cuts at chosen points of a rotation (--crash-at). Kept out of the main loop so
// that the loop only asks: which token, paused?, which interval, and reports uploader steps.
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>

#include "lifelog/capture_queue.h"
#include "lifelog/heartbeat.h"
#include "lifelog/uploader.h"

struct SimLifecycleOptions {
  bool heartbeat = false;        // --heartbeat: report on the server's schedule and after drains
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

class SimLifecycle : public lifelog::LifecycleObserver, public lifelog::PrivacyIndicator,
                     public lifelog::UploadObserver {
 public:
  enum class Tick { Nothing, TokenChanged, SettingsChanged, TokenDead };

  SimLifecycle(const SimLifecycleOptions& o, lifelog::KeyValueStore& kv, lifelog::HttpConnection& conn,
               const lifelog::ApiEndpoint& endpoint, lifelog::Clock& clock, lifelog::Rng& rng, SimEventLog log);

  // After activation: reads the tokens and the saved settings.
  void begin(lifelog::UploadObserver* forward);
  const char* token() const { return tokens_.active(); }
  bool paused() const { return life_.settings().paused; }
  uint64_t capture_interval_ms(uint64_t built_in_ms) const {
    return lifelog::capture_interval_ms(life_.settings(), built_in_ms);
  }
  // Once per loop turn, with the uploader's last result. Runs a due heartbeat (and, after
  // a 401 of the uploader, the check whether the other token works).
  Tick tick(lifelog::StepResult upload, lifelog::CaptureQueue& queue);

  void on_lifecycle_event(const lifelog::LifecycleEvent& e) override;
  void show_paused(bool paused) override;
  void on_upload_event(const lifelog::UploadEvent& e) override;

 private:
  SimLifecycleOptions o_;
  CrashingKv token_kv_;
  lifelog::LifecycleApi api_;
  lifelog::TokenKeeper tokens_;
  lifelog::DeviceLifecycle life_;
  lifelog::Clock& clock_;
  SimEventLog log_;
  lifelog::UploadObserver* forward_ = nullptr;
  lifelog::StepResult last_upload_ = lifelog::StepResult::Idle;
  bool settings_changed_ = false;
  std::string last_error_;
};
