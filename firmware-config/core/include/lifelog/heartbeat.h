#pragma once
// The camera's side of the device lifecycle: a heartbeat on a schedule (the server says
// when to call again) and soon after each drained queue, the owner's settings it answers
// (pause, capture interval; kept in NVS and shown on the privacy indicator), and token
// rotation when the server asks or the glue requests it, through a TokenKeeper.
#include <cstdint>

#include "backoff.h"
#include "clock.h"
#include "kv_store.h"
#include "lifecycle_api.h"
#include "remote_settings.h"
#include "token_rotation.h"

namespace lifelog {

constexpr const char* kFirmwareVersion = "0.4.0";

struct HeartbeatConfig {
  const char* firmware_version = kFirmwareVersion;
  // Until the server has answered once.
  uint32_t default_interval_s = 60;
  // Upper bound on the server's "call again in" (0: none). A pause takes effect within it.
  uint32_t max_interval_ms = 0;
  // A drained queue asks for a heartbeat, but never sooner than this after the last one.
  uint32_t min_gap_ms = 10000;
  BackoffConfig backoff;
};

enum class LifecycleEventKind : uint8_t {
  Heartbeat,        // answered; paused/interval_s as the server said
  HeartbeatFailed,  // will retry (delay_ms)
  SettingsChanged,  // paused/interval_s are the new settings
  RotationIssued,   // a successor token is in NVS, not yet proven
  RotationProven,   // the successor answered: it is the token now
  RotationFailed,   // asking for or storing a successor failed; the current token stays
  TokenFallback,    // the successor was unknown to the server: back to the current token
  TokenDead,        // no token is accepted any more
};
const char* lifecycle_event_name(LifecycleEventKind k);

struct LifecycleEvent {
  LifecycleEventKind kind;
  int http_status = 0;
  const char* code = "";
  bool paused = false;
  uint32_t interval_s = 0;
  uint32_t delay_ms = 0;
};

class LifecycleObserver {
 public:
  virtual ~LifecycleObserver() = default;
  virtual void on_lifecycle_event(const LifecycleEvent& e) = 0;
};

enum class LifecycleStep : uint8_t {
  Idle,          // nothing was due
  Done,          // a heartbeat (and perhaps a rotation) ran or was scheduled for retry
  TokenChanged,  // tokens.active() changed: hand it to the uploader
  TokenDead,
};

class DeviceLifecycle {
 public:
  DeviceLifecycle(LifecycleApi& api, TokenKeeper& tokens, KeyValueStore& kv, Clock& clock, Rng& rng,
                  const HeartbeatConfig& cfg, PrivacyIndicator* indicator = nullptr,
                  LifecycleObserver* observer = nullptr);

  // Loads the saved settings and shows them; the first heartbeat is due at once.
  void begin();
  // Runs the heartbeat when due, then a rotation if one was asked for.
  LifecycleStep step(const StatusReport& report);

  bool due() const;
  uint64_t next_at_ms() const { return next_at_ms_; }
  // The queue is empty: report soon (after min_gap_ms since the last heartbeat).
  void after_drain();
  // Something was refused with 401: heartbeat now to learn whether another token works.
  void check_token_now();
  void request_rotation() { rotation_wanted_ = true; }
  // A fresh activation gave a new token after a dead one: heartbeats resume at once.
  void token_replaced();
  bool token_dead() const { return dead_; }
  const RemoteSettings& settings() const { return settings_; }
  // Heartbeats answered 200 so far, and the last answer (valid while ok_count() moved).
  uint32_t ok_count() const { return ok_count_; }
  const HeartbeatReply& last_reply() const { return reply_; }

 private:
  LifecycleStep rotate();
  void apply(const HeartbeatReply& reply);
  void emit(LifecycleEventKind kind, const ApiResult* r = nullptr, uint32_t delay_ms = 0);

  LifecycleApi& api_;
  TokenKeeper& tokens_;
  KeyValueStore& kv_;
  Clock& clock_;
  HeartbeatConfig cfg_;
  Backoff backoff_;
  PrivacyIndicator* indicator_;
  LifecycleObserver* observer_;
  RemoteSettings settings_;
  HeartbeatReply reply_;
  uint32_t ok_count_ = 0;
  uint64_t next_at_ms_ = 0;
  uint64_t last_ok_ms_ = 0;
  bool ever_ok_ = false;
  bool rotation_wanted_ = false;
  bool dead_ = false;
};

}  // namespace lifelog
