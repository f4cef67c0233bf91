#include "lifelog/heartbeat.h"

namespace lifelog {

const char* lifecycle_event_name(LifecycleEventKind k) {
  switch (k) {
    case LifecycleEventKind::Heartbeat: return "heartbeat";
    case LifecycleEventKind::HeartbeatFailed: return "heartbeat_failed";
    case LifecycleEventKind::SettingsChanged: return "settings_changed";
    case LifecycleEventKind::RotationIssued: return "rotation_issued";
    case LifecycleEventKind::RotationProven: return "rotation_proven";
    case LifecycleEventKind::RotationFailed: return "rotation_failed";
    case LifecycleEventKind::TokenFallback: return "token_fallback";
    case LifecycleEventKind::TokenDead: return "token_dead";
  }
  return "?";
}

DeviceLifecycle::DeviceLifecycle(LifecycleApi& api, TokenKeeper& tokens, KeyValueStore& kv, Clock& clock, Rng& rng,
                                 const HeartbeatConfig& cfg, PrivacyIndicator* indicator,
                                 LifecycleObserver* observer)
    : api_(api), tokens_(tokens), kv_(kv), clock_(clock), cfg_(cfg), backoff_(cfg.backoff, rng),
      indicator_(indicator), observer_(observer) {}

void DeviceLifecycle::begin() {
  settings_ = load_remote_settings(kv_);
  if (indicator_) indicator_->show_paused(settings_.paused);
  next_at_ms_ = clock_.monotonic_ms();
}

void DeviceLifecycle::token_replaced() {
  dead_ = false;
  next_at_ms_ = clock_.monotonic_ms();
}

bool DeviceLifecycle::due() const { return !dead_ && clock_.monotonic_ms() >= next_at_ms_; }

void DeviceLifecycle::after_drain() {
  uint64_t soonest = ever_ok_ ? last_ok_ms_ + cfg_.min_gap_ms : clock_.monotonic_ms();
  if (soonest < next_at_ms_) next_at_ms_ = soonest;
}

void DeviceLifecycle::check_token_now() { next_at_ms_ = clock_.monotonic_ms(); }

void DeviceLifecycle::emit(LifecycleEventKind kind, const ApiResult* r, uint32_t delay_ms) {
  if (!observer_) return;
  LifecycleEvent e{kind};
  if (r) {
    e.http_status = r->status;
    e.code = r->code;
  }
  e.paused = settings_.paused;
  e.interval_s = settings_.capture_interval_s;
  e.delay_ms = delay_ms;
  observer_->on_lifecycle_event(e);
}

void DeviceLifecycle::apply(const HeartbeatReply& reply) {
  RemoteSettings next;
  next.paused = reply.paused;
  next.capture_interval_s = reply.capture_interval_s;
  if (next == settings_) return;
  // Shown and obeyed at once, and stored so that it survives a power cut (step() stores
  // again whenever NVS disagrees, so a failed write is repaired by the next heartbeat).
  settings_ = next;
  if (indicator_) indicator_->show_paused(settings_.paused);
  save_remote_settings(kv_, settings_);
  emit(LifecycleEventKind::SettingsChanged);
}

LifecycleStep DeviceLifecycle::step(const StatusReport& report) {
  if (dead_) return LifecycleStep::TokenDead;
  if (!due()) return LifecycleStep::Idle;
  if (!tokens_.has_token()) {
    dead_ = true;
    emit(LifecycleEventKind::TokenDead);
    return LifecycleStep::TokenDead;
  }
  uint32_t generation = tokens_.generation();
  HeartbeatReply& reply = reply_;
  ApiResult r = api_.heartbeat(tokens_.active(), report, &reply);
  uint64_t now = clock_.monotonic_ms();

  if (r.outcome == ApiOutcome::Unauthorized) {
    if (tokens_.refused(r.code) == TokenVerdict::TryAgain) {
      emit(LifecycleEventKind::TokenFallback, &r);
      next_at_ms_ = now;
      return LifecycleStep::TokenChanged;
    }
    dead_ = true;
    emit(LifecycleEventKind::TokenDead, &r);
    return LifecycleStep::TokenDead;
  }
  if (!r.ok()) {
    // Rejected (4xx) is this firmware's mistake; retrying sooner would not help.
    uint32_t delay = r.outcome == ApiOutcome::Rejected ? cfg_.default_interval_s * 1000u : retry_delay_ms(backoff_, r);
    next_at_ms_ = now + delay;
    emit(LifecycleEventKind::HeartbeatFailed, &r, delay);
    return LifecycleStep::Done;
  }

  backoff_.reset();
  ever_ok_ = true;
  ++ok_count_;
  last_ok_ms_ = now;
  if (tokens_.proving() && tokens_.confirm()) emit(LifecycleEventKind::RotationProven, &r);
  apply(reply);
  if (load_remote_settings(kv_) != settings_) save_remote_settings(kv_, settings_);
  uint64_t wait = uint64_t(reply.next_heartbeat_s) * 1000;
  if (cfg_.max_interval_ms && wait > cfg_.max_interval_ms) wait = cfg_.max_interval_ms;
  next_at_ms_ = now + wait;
  emit(LifecycleEventKind::Heartbeat, &r);

  if (reply.rotate_token) rotation_wanted_ = true;
  LifecycleStep result = tokens_.generation() != generation ? LifecycleStep::TokenChanged : LifecycleStep::Done;
  if (rotation_wanted_ && !tokens_.proving()) {
    LifecycleStep rotated = rotate();
    if (rotated != LifecycleStep::Done) result = rotated;
  }
  return result;
}

LifecycleStep DeviceLifecycle::rotate() {
  char fresh[kMaxDeviceToken];
  ApiResult r = api_.rotate(tokens_.active(), fresh, sizeof(fresh));
  if (!r.ok()) {
    // The current token keeps working on the server either way; ask again next heartbeat.
    emit(LifecycleEventKind::RotationFailed, &r);
    if (r.outcome == ApiOutcome::Unauthorized) check_token_now();
    return LifecycleStep::Done;
  }
  if (!tokens_.adopt(fresh)) {
    emit(LifecycleEventKind::RotationFailed, &r);  // NVS refused: the successor is simply never used
    return LifecycleStep::Done;
  }
  rotation_wanted_ = false;
  emit(LifecycleEventKind::RotationIssued, &r);
  next_at_ms_ = clock_.monotonic_ms();  // prove the successor with the next step
  return LifecycleStep::TokenChanged;
}

}  // namespace lifelog
