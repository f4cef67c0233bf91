#include "lifelog/device_loop.h"

#include <cstdio>
#include <cstring>

#include "lifelog/capture_time.h"
#include "lifelog/config_limits.h"
#include "lifelog/http_image_source.h"
#include "lifelog/retry_after.h"

namespace lifelog {

namespace {
constexpr uint64_t kNever = UINT64_MAX;
// Without anything due, a turn still comes this often (status line, link, button).
constexpr uint64_t kIdleTurnMs = 1000;

UploaderConfig wired(UploaderConfig c, uint32_t boot_id, IoListener* io, CardMount* card) {
  c.device_token = "";
  c.boot_id = boot_id;
  c.io_listener = io;
  c.card = card;
  return c;
}
}  // namespace

const char* loop_event_name(LoopEventKind k) {
  switch (k) {
    case LoopEventKind::CardMounted: return "card_mounted";
    case LoopEventKind::CardFailed: return "card_failed";
    case LoopEventKind::CardRemounted: return "card_remounted";
    case LoopEventKind::CaptureBegin: return "capture_begin";
    case LoopEventKind::Captured: return "captured";
    case LoopEventKind::CaptureFailed: return "capture_failed";
    case LoopEventKind::Evicted: return "evicted";
    case LoopEventKind::ClockSynced: return "clock_synced";
    case LoopEventKind::Activated: return "activated";
    case LoopEventKind::ActivationNoCode: return "activation_no_code";
    case LoopEventKind::ActivationRetry: return "activation_retry";
    case LoopEventKind::ActivationRefused: return "activation_refused";
    case LoopEventKind::ActivationStoreFailed: return "activation_store_failed";
    case LoopEventKind::UploadTokenRefused: return "upload_token_refused";
    case LoopEventKind::TokenDead: return "token_dead";
    case LoopEventKind::PortalClosed: return "portal_closed";
    case LoopEventKind::PortalSaved: return "portal_saved";
    case LoopEventKind::StepBegin: return "step_begin";
    case LoopEventKind::StepEnd: return "step";
    case LoopEventKind::Status: return "status";
    case LoopEventKind::Ota: return "ota";
    case LoopEventKind::OtaProgress: return "ota_progress";
    case LoopEventKind::RebootForUpdate: return "reboot_for_update";
  }
  return "?";
}

DeviceLoop::DeviceLoop(DevicePlatform& p, const DeviceLoopConfig& cfg)
    : p_(p),
      cfg_(cfg),
      api_(p.api, cfg_.endpoint),
      seqs_(p.kv),
      queue_(p.card, p.kv, seqs_, cfg_.queue),
      uploader_(queue_, p.api, p.storage, p.clock, p.jitter, cfg_.endpoint,
                wired(cfg_.upload, cfg_.boot_id, this, this), this),
      first_contact_(p.jitter, cfg_.first_contact_spread_ms),
      activation_backoff_(cfg_.activation_backoff, p.jitter),
      tokens_(p.kv),
      lifecycle_api_(p.api, cfg_.endpoint),
      lifecycle_(lifecycle_api_, tokens_, p.kv, p.clock, p.jitter, cfg_.heartbeat, p.privacy, this) {
  // Every API request then says which boot sent it and its uptime: the server dates a boot
  // that never gets NTP (the members above hold the endpoint by reference).
  cfg_.endpoint.boot_id = cfg_.boot_id;
  cfg_.endpoint.clock = &p.clock;
}

void DeviceLoop::begin() {
  // First: the portal blocks for minutes and feeds the watchdog, which ESP-IDF refuses (and logs,
  // on every call) from a task that is not subscribed.
  p_.watchdog.subscribe();
  tokens_.begin();
  p_.kv.get_u32(kFramesDoneKey, &frames_);
  open_portal_if_needed();
  seqs_.begin();
  try_mount_card();
  uploader_.set_token(tokens_.active());
  lifecycle_.begin();  // the owner's last pause/interval from NVS, shown on the privacy LED
  if (p_.ota) {
    p_.ota->on_boot(p_.clock.monotonic_ms());
    emit_ota_if_changed();
  }
  next_capture_ms_ = p_.clock.monotonic_ms();
  last_capture_ms_ = next_capture_ms_;
}

TurnResult DeviceLoop::turn() {
  TurnResult t;
  p_.watchdog.feed();
  uint64_t now = p_.clock.monotonic_ms();
  t.wake_at_ms = now;
  if (stopped_) return t;
  p_.light.tick(now);
  if (!card_ready_ && now >= next_card_try_ms_) try_mount_card();

  p_.link.maintain(now);
  // Online for the API only once this link-up's spread has passed; capturing goes on regardless.
  bool online = first_contact_.may_call(p_.link.connected(), now);
  uint32_t fixed = 0;
  if (card_ready_ && queue_.correct_times_after_sync(p_.clock, cfg_.boot_id, &fixed)) {
    LoopEvent e{LoopEventKind::ClockSynced};
    e.count = fixed;
    emit(e);
  }
  check_long_press(now);
  if (stopped_) return t;
  if (now >= next_status_ms_) {
    next_status_ms_ = now + cfg_.status_every_ms;
    LoopStatus s = status();
    LoopEvent e{LoopEventKind::Status};
    e.status = &s;
    emit(e);
  }
  if (p_.ota) {
    p_.ota->tick(now);  // a pending image past its deadline rolls back (and restarts)
    emit_ota_if_changed();
  }
  if (capture_if_due(now)) return t;  // wake at once: the next turn uploads
  if (online && !has_token()) {
    try_activation(now);
  } else if (online) {
    run_lifecycle_step(now);
    if (!stopped_ && ota_working_ && now >= ota_next_ms_) run_ota_step();
    if (!stopped_ && has_token() && card_ready_) run_upload_step(&t);
  }
  if (stopped_) return t;
  now = p_.clock.monotonic_ms();
  t.wake_at_ms = wake_at(now, t, online);
  return t;
}

uint64_t DeviceLoop::wake_at(uint64_t now, const TurnResult& t, bool online) {
  if (t.stepped && t.step == StepResult::Progress) return now;
  uint64_t wake = now + kIdleTurnMs;
  auto sooner = [&](uint64_t at) {
    if (at < wake) wake = at < now ? now : at;
  };
  if (online && ota_working_) sooner(ota_next_ms_);
  if (capturing() && !lifecycle_.settings().paused && card_ready_) sooner(next_capture_ms_);
  if (!card_ready_) sooner(next_card_try_ms_);
  if (online && !has_token()) sooner(next_activation_ms_);
  if (online && has_token() && !lifecycle_.token_dead()) sooner(lifecycle_.next_at_ms());
  if (t.stepped && t.step == StepResult::Waiting) sooner(uploader_.ready_at_ms());
  if (first_contact_.waiting()) sooner(first_contact_.ready_at_ms());
  return wake;
}

LoopStatus DeviceLoop::status() {
  LoopStatus s;
  s.online = p_.link.connected();
  s.network = s.online ? p_.link.name() : "";
  s.has_token = has_token();
  s.card_ready = card_ready_;
  s.pending = card_ready_ ? queue_.pending_count() : 0;
  s.link_error = p_.net.last_error();
  return s;
}

// Fed from inside every upload step, after each bounded network wait.
void DeviceLoop::on_io(uint64_t now_ms) {
  p_.watchdog.feed();
  if (card_ready_ && !card_failed_later_) capture_if_due(now_ms);
}

// A card read error mid-upload: unmount and mount again before the photo is retried.
bool DeviceLoop::remount() {
  p_.slot.unmount();
  bool ok = p_.slot.mount();
  LoopEvent e{LoopEventKind::CardRemounted};
  e.ok = ok;
  emit(e);
  return ok;
}

void DeviceLoop::on_upload_event(const UploadEvent& e) {
  if (e.kind == UploadEventKind::Retry || e.kind == UploadEventKind::Quarantined) {
    snprintf(last_error_, sizeof(last_error_), "%s: HTTP %d %s", e.step, e.http_status, e.code);
  } else if (e.kind == UploadEventKind::Ingested || e.kind == UploadEventKind::Duplicate) {
    last_error_[0] = '\0';
  }
  if (p_.upload_log) p_.upload_log->on_upload_event(e);
}

void DeviceLoop::on_lifecycle_event(const LifecycleEvent& e) {
  if (e.kind == LifecycleEventKind::SettingsChanged) settings_changed_ = true;
  if (p_.lifecycle_log) p_.lifecycle_log->on_lifecycle_event(e);
}

// At boot: by itself only while the camera has no token and nothing to activate or join with.
void DeviceLoop::open_portal_if_needed() {
  PortalTrigger trigger;
  trigger.token = token_state();
  if (!portal_should_open(trigger)) return;
  char code[kMaxPairingCodeBytes + 1];
  bool has_code = p_.kv.get_str(kPairingCodeKey, code, sizeof(code)) && code[0];
  if (has_code && p_.link.has_networks()) return;  // it can activate without help
  open_portal();
}

void DeviceLoop::open_portal() {
  if (!p_.portal.run(token_state())) {
    emit(LoopEvent{LoopEventKind::PortalClosed});
    return;
  }
  next_activation_ms_ = 0;
  emit(LoopEvent{LoopEventKind::PortalSaved});
}

// A hold of the button while running: the deliberate act that opens the portal on a camera that
// has a token (where a typed code still cannot replace that token).
void DeviceLoop::check_long_press(uint64_t now) {
  if (!p_.portal.button_down()) {
    button_down_since_ms_ = 0;
    return;
  }
  if (button_down_since_ms_ == 0) button_down_since_ms_ = now;
  if (now - button_down_since_ms_ < cfg_.long_press_ms) return;
  button_down_since_ms_ = 0;
  PortalTrigger trigger;
  trigger.token = token_state();
  trigger.long_press = true;
  if (portal_should_open(trigger)) open_portal();
}

void DeviceLoop::card_failed(const char* why) {
  p_.slot.unmount();
  card_ready_ = false;
  p_.light.card_failed();
  next_card_try_ms_ = p_.clock.monotonic_ms() + cfg_.card_retry_ms;
  LoopEvent e{LoopEventKind::CardFailed};
  e.text = why;
  e.delay_ms = cfg_.card_retry_ms;
  emit(e);
}

bool DeviceLoop::try_mount_card() {
  if (!p_.slot.mount()) {
    card_failed("no usable card");
    return false;
  }
  if (!queue_.begin()) {
    card_failed("card folders unusable");
    return false;
  }
  // Exact across kills: one between committing a photo and saving the counter is covered by the
  // frame index stored in the newest record.
  frames_ = queue_.resume_frame_count(frames_);
  card_ready_ = true;
  LoopEvent e{LoopEventKind::CardMounted};
  e.count = queue_.pending_count();
  emit(e);
  return true;
}

bool DeviceLoop::capture_if_due(uint64_t now) {
  if (!capturing() || now < next_capture_ms_) return false;
  // Paused by the owner: no photo at all; the first slot after a resume is taken at once.
  if (lifecycle_.settings().paused) return false;
  last_capture_ms_ = now;
  capture_once();
  uint64_t interval_ms = capture_interval_ms(lifecycle_.settings(), cfg_.capture_interval_ms);
  next_capture_ms_ += interval_ms;
  if (next_capture_ms_ < now) next_capture_ms_ = now + interval_ms;
  return true;
}

void DeviceLoop::capture_once() {
  if (!card_ready_) return;  // the card's failure was reported; it is retried
  emit(LoopEvent{LoopEventKind::CaptureBegin});
  ManifestRecord rec;
  uint32_t dropped_before = queue_.dropped();
  CaptureStatus st = queue_.capture(p_.camera, frames_, stamp_now(read_clock(p_.clock, cfg_.boot_id)), &rec);
  if (queue_.dropped() != dropped_before) {
    LoopEvent e{LoopEventKind::Evicted};
    e.count = queue_.dropped() - dropped_before;
    e.total = queue_.dropped();
    emit(e);
  }
  if (st == CaptureStatus::Ok) {
    ++frames_;
    p_.kv.put_u32(kFramesDoneKey, frames_);
    LoopEvent e{LoopEventKind::Captured};
    e.record = &rec;
    emit(e);
    return;
  }
  LoopEvent e{LoopEventKind::CaptureFailed};
  e.capture = st;
  e.frame = frames_;
  emit(e);
  if (st == CaptureStatus::CardFailed) {
    // Inside a step the card stays mounted until the step has closed its file.
    if (uploading_) card_failed_later_ = true;
    else card_failed("write failed");
  }
}

void DeviceLoop::try_activation(uint64_t now) {
  if (now < next_activation_ms_) return;
  ApiResult r;
  Activation a;
  ActivationOutcome outcome = activate_with_stored_code(p_.kv, p_.entropy, api_, &a, &r);
  memset(a.device_token, 0, sizeof(a.device_token));  // NVS holds it; the keeper reads it there
  LoopEvent e{LoopEventKind::Activated};
  e.http_status = r.status;
  e.code = r.code;
  switch (outcome) {
    case ActivationOutcome::Activated:
      tokens_.begin();
      uploader_.set_token(tokens_.active());
      lifecycle_.token_replaced();
      activation_backoff_.reset();
      e.text = a.device_id;
      break;
    case ActivationOutcome::NoCode:
      e.kind = LoopEventKind::ActivationNoCode;
      next_activation_ms_ = now + cfg_.no_code_recheck_ms;
      break;
    case ActivationOutcome::Refused:
      e.kind = LoopEventKind::ActivationRefused;
      next_activation_ms_ = kNever;  // until a new code arrives through the portal
      break;
    case ActivationOutcome::StoreFailed:
      e.kind = LoopEventKind::ActivationStoreFailed;
      next_activation_ms_ = now + cfg_.no_code_recheck_ms;
      break;
    case ActivationOutcome::Retry:
      e.kind = LoopEventKind::ActivationRetry;
      e.delay_ms = retry_delay_ms(activation_backoff_, r, p_.clock.wall_synced() ? p_.clock.wall_utc_s() : -1);
      next_activation_ms_ = now + e.delay_ms;
      break;
  }
  emit(e);
}

void DeviceLoop::run_lifecycle_step(uint64_t now) {
  if (!lifecycle_.due()) return;
  StatusReport report;
  report.firmware_version = cfg_.heartbeat.firmware_version;
  report.ota = p_.ota ? &p_.ota->report() : nullptr;
  report.free_bytes = card_ready_ ? p_.card.free_bytes() : 0;
  report.queue_depth = card_ready_ ? queue_.pending_count() : 0;
  report.dropped = card_ready_ ? queue_.dropped() : 0;
  report.quarantined = card_ready_ ? queue_.failed_count() : 0;
  report.last_error = p_.net.last_error()[0] ? p_.net.last_error() : last_error_;
  report.uptime_s = now / 1000;
  report.clock_synced = p_.clock.wall_synced();
  settings_changed_ = false;
  uint32_t ok_before = lifecycle_.ok_count();
  LifecycleStep step = lifecycle_.step(report);
  after_heartbeat(ok_before, report.firmware_version);
  if (stopped_) return;
  switch (step) {
    case LifecycleStep::TokenChanged: uploader_.set_token(tokens_.active()); break;
    case LifecycleStep::TokenDead: {
      if (card_ready_) uploader_.token_refused();  // before the host may stop at the event
      LoopEvent e{LoopEventKind::TokenDead};
      e.count = card_ready_ ? queue_.pending_count() : 0;
      emit(e);
      if (stopped_) return;
      // Captures go on; a new pairing code (the portal accepts one now) activates again.
      forget_device_token(p_.kv);
      tokens_.begin();
      next_activation_ms_ = 0;
      return;
    }
    case LifecycleStep::Idle:
    case LifecycleStep::Done: break;
  }
  if (settings_changed_) {
    // A new interval counts from the last photo, not from the slot already planned.
    next_capture_ms_ = last_capture_ms_ + capture_interval_ms(lifecycle_.settings(), cfg_.capture_interval_ms);
  }
}

void DeviceLoop::run_upload_step(TurnResult* t) {
  emit(LoopEvent{LoopEventKind::StepBegin});
  uploading_ = true;
  StepResult r = uploader_.step();
  uploading_ = false;
  t->stepped = true;
  t->step = r;
  LoopEvent done{LoopEventKind::StepEnd};
  done.step = r;
  done.ms = uploader_.last_step_ms();
  emit(done);
  if (card_failed_later_) {
    card_failed_later_ = false;
    card_failed("write failed");
    return;
  }
  StepResult before = last_step_;
  last_step_ = r;
  if (r == StepResult::TokenDead) {
    // A rotation may be half-way: the heartbeat finds out whether the other token works.
    emit(LoopEvent{LoopEventKind::UploadTokenRefused});
    lifecycle_.check_token_now();
  } else if (r == StepResult::StorageError) {
    card_failed("read failed during upload");
  } else if (r == StepResult::Idle && before != StepResult::Idle) {
    lifecycle_.after_drain();  // report soon after a drained queue
  }
}

}  // namespace lifelog

namespace lifelog {

// A heartbeat answered 200 confirms a pending image that reported its own version; its offer
// starts, resumes or refreshes a download.
void DeviceLoop::after_heartbeat(uint32_t ok_before, const char* reported_version) {
  if (!p_.ota || lifecycle_.ok_count() == ok_before) return;
  p_.ota->on_heartbeat_ok(reported_version);
  emit_ota_if_changed();
  const HeartbeatReply& reply = lifecycle_.last_reply();
  if (!reply.has_update) return;
  ota_download_ = reply.download;
  OtaConditions c;
  // Captures come first: no card, or a card without room for them, means not now.
  c.card_free_bytes = card_ready_ ? p_.card.free_bytes() : 0;
  c.card_reserve_bytes = cfg_.queue.min_free_bytes + cfg_.ota_card_reserve_bytes;
  ota_result(p_.ota->offer(reply.update, c));
}

void DeviceLoop::run_ota_step() {
  HttpImageSource source(p_.ota_http ? *p_.ota_http : p_.storage, ota_download_.host, ota_download_.port,
                         ota_download_.path);
  OtaStep step = p_.ota->step(source, cfg_.ota_step_bytes);
  LoopEvent e{LoopEventKind::OtaProgress};
  e.count = p_.ota->bytes_done();
  e.total = uint32_t(p_.ota->bytes_fetched());
  emit(e);
  ota_result(step);
}

void DeviceLoop::ota_result(OtaStep step) {
  // A dropped link is retried after ota_retry_ms from where it stopped (a stale URL too, until
  // the next heartbeat's offer brings a fresh one); Deferred waits for the next offer.
  uint64_t now = p_.clock.monotonic_ms();
  ota_working_ = step == OtaStep::Working || step == OtaStep::LinkDown;
  ota_next_ms_ = step == OtaStep::LinkDown ? now + cfg_.ota_retry_ms : now;
  emit_ota_if_changed(step == OtaStep::LinkDown);
  if (step != OtaStep::ReadyToReboot) return;
  LoopEvent e{LoopEventKind::RebootForUpdate};
  e.text = p_.ota->report().version;
  emit(e);
}

// link_down: a ranged read failed (reported even though the state stays `downloading`).
void DeviceLoop::emit_ota_if_changed(bool link_down) {
  const OtaReport& r = p_.ota->report();
  if (!link_down && r.state == ota_last_.state && strcmp(r.version, ota_last_.version) == 0 && strcmp(r.error, ota_last_.error) == 0) {
    return;
  }
  ota_last_ = r;
  LoopEvent e{LoopEventKind::Ota};
  e.text = ota_state_name(r.state);
  e.code = r.error;
  e.count = p_.ota->bytes_done();
  e.total = uint32_t(p_.ota->bytes_fetched());
  e.ok = !link_down;
  emit(e);
}

}  // namespace lifelog
