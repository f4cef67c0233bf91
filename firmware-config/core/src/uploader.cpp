#include "lifelog/uploader.h"

#include <cstdio>
#include <cstring>

#include "lifelog/atomic_file.h"
#include "lifelog/utc_time.h"

namespace lifelog {
namespace {

// Reads one photo from the card for the PUT body.
class FileBodySource : public BodySource {
 public:
  FileBodySource(FileSystem& fs, const char* path) : fs_(fs), path_(path), fd_(fs.open(path, OpenMode::Read)) {}
  ~FileBodySource() override {
    if (fd_ >= 0) fs_.close(fd_);
  }
  bool ok() const { return fd_ >= 0; }
  int32_t read(uint8_t* buf, size_t len) override { return fd_ >= 0 ? fs_.read(fd_, buf, len) : -1; }
  bool rewind() override {
    if (fd_ >= 0) fs_.close(fd_);
    fd_ = fs_.open(path_, OpenMode::Read);
    return fd_ >= 0;
  }

 private:
  FileSystem& fs_;
  const char* path_;
  int fd_;
};

}  // namespace

const char* upload_event_name(UploadEventKind k) {
  switch (k) {
    case UploadEventKind::Uploaded: return "uploaded";
    case UploadEventKind::Ingested: return "ingested";
    case UploadEventKind::Duplicate: return "duplicate";
    case UploadEventKind::Reupload: return "reupload";
    case UploadEventKind::Retry: return "retry";
    case UploadEventKind::Quarantined: return "quarantined";
    case UploadEventKind::Discarded: return "discarded";
    case UploadEventKind::TokenDead: return "token_dead";
    case UploadEventKind::Deferred: return "deferred";
    case UploadEventKind::ReadRetry: return "read_retry";
  }
  return "unknown";
}

Uploader::Uploader(CaptureQueue& queue, HttpConnection& api, HttpConnection& storage, Clock& clock, Rng& rng,
                   const ApiEndpoint& endpoint, const UploaderConfig& cfg, UploadObserver* observer)
    : queue_(queue),
      api_conn_(api),
      storage_conn_(storage),
      clock_(clock),
      backoff_(cfg.backoff, rng),
      cfg_(cfg),
      observer_(observer),
      endpoint_(endpoint),
      api_(api, endpoint) {
  if (cfg_.chunk_size == 0 || cfg_.chunk_size > kMaxStreamChunk) cfg_.chunk_size = kMaxStreamChunk;
  api_.use_batch_buffers(cfg_.batch);
  max_window_ = api_.batches_usable() ? cfg_.max_batch : 1;
  if (max_window_ < 1) max_window_ = 1;
  if (max_window_ > kMaxBatchItems) max_window_ = kMaxBatchItems;
  batch_limit_ = max_window_;
  IoTiming timing;
  timing.clock = &clock_;
  timing.idle_timeout_ms = cfg_.idle_timeout_ms;
  timing.listener = cfg_.io_listener;
  api_conn_.set_timing(timing);
  storage_conn_.set_timing(timing);
}

void Uploader::set_token(const char* token) {
  cfg_.device_token = token;
  token_dead_ = false;
}

void Uploader::emit(UploadEventKind kind, const ManifestRecord& rec, const ApiResult* r, const char* step,
                    uint32_t delay_ms) {
  if (!observer_) return;
  UploadEvent e;
  e.kind = kind;
  e.seq = rec.seq;
  e.frame = rec.frame;
  e.http_status = r ? r->status : 0;
  e.code = r ? r->code : "";
  e.step = step;
  e.delay_ms = delay_ms;
  e.bytes = rec.size;
  observer_->on_upload_event(e);
}

StepResult Uploader::step() {
  uint64_t start = clock_.monotonic_ms();
  api_conn_.set_deadline(start + cfg_.step_budget_ms);
  storage_conn_.set_deadline(start + cfg_.step_budget_ms);
  StepResult result = step_within_budget();
  api_conn_.set_deadline(UINT64_MAX);
  storage_conn_.set_deadline(UINT64_MAX);
  last_step_ms_ = clock_.monotonic_ms() - start;
  if (last_step_ms_ > longest_step_ms_) longest_step_ms_ = last_step_ms_;
  return result;
}

Uploader::Deferred* Uploader::find_deferred(uint32_t seq) {
  for (size_t i = 0; i < deferred_len_; ++i) {
    if (deferred_[i].seq == seq) return &deferred_[i];
  }
  return nullptr;
}

void Uploader::forget_deferred(uint32_t seq) {
  for (size_t i = 0; i < deferred_len_; ++i) {
    if (deferred_[i].seq != seq) continue;
    deferred_[i] = deferred_[--deferred_len_];
    return;
  }
}

void Uploader::defer(const Slot& s, uint32_t delay_ms) {
  Deferred* d = find_deferred(s.rec.seq);
  if (!d) {
    // Full: the entry waiting longest gives way (it is simply tried again in queue order).
    if (deferred_len_ == kMaxDeferred) {
      size_t latest = 0;
      for (size_t i = 1; i < deferred_len_; ++i) {
        if (deferred_[i].until_ms > deferred_[latest].until_ms) latest = i;
      }
      deferred_[latest] = deferred_[--deferred_len_];
    }
    d = &deferred_[deferred_len_++];
    d->seq = s.rec.seq;
  }
  d->failures = s.failures;
  d->until_ms = clock_.monotonic_ms() + delay_ms;
}

bool Uploader::choose_photo(uint64_t now, uint32_t* seq, uint64_t* wake_ms, bool* any) {
  uint32_t s;
  *any = queue_.peek_oldest(&s);
  if (!*any) {
    deferred_len_ = 0;
    return false;
  }
  // Entries older than the oldest waiting photo are gone (evicted or done elsewhere).
  for (size_t i = 0; i < deferred_len_;) {
    if (deferred_[i].seq < s) {
      deferred_[i] = deferred_[--deferred_len_];
    } else {
      ++i;
    }
  }
  uint64_t earliest = UINT64_MAX;
  for (size_t looked = 0; looked <= kMaxDeferred; ++looked) {
    const Deferred* d = find_deferred(s);
    if (!d || d->until_ms <= now) {
      *seq = s;
      return true;
    }
    if (d->until_ms < earliest) earliest = d->until_ms;
    if (!queue_.peek_after(s, &s)) break;
  }
  *wake_ms = earliest;
  return false;
}

bool Uploader::next_photo(uint64_t now, uint32_t after, uint32_t* seq) {
  for (size_t looked = 0; looked <= kMaxDeferred; ++looked) {
    if (!queue_.peek_after(after, seq)) return false;
    const Deferred* d = find_deferred(*seq);
    if (!d || d->until_ms <= now) return true;
    after = *seq;
  }
  return false;
}

void Uploader::leave_window(Slot& s) {
  s.phase = Phase::Out;
  if (queue_.in_flight() == s.rec.seq) queue_.clear_in_flight();
}

StepResult Uploader::fill_window(uint64_t now) {
  uint32_t seq;
  if (filling_) {
    seq = fill_next_;
    filling_ = false;
  } else {
    window_len_ = 0;
    uint64_t wake = 0;
    bool any = false;
    if (!choose_photo(now, &seq, &wake, &any)) {
      if (!any) return StepResult::Idle;
      ready_at_ms_ = wake;
      return StepResult::Waiting;
    }
  }
  bool discarded = false;
  for (uint32_t loads = 0;; ++loads) {
    if (cfg_.loads_per_step > 0 && loads == cfg_.loads_per_step) {
      // The rest of the window is loaded in the next step; this one has done its card work.
      filling_ = true;
      fill_next_ = seq;
      return StepResult::Progress;
    }
    Slot& s = window_[window_len_];
    s = Slot();
    LoadStatus loaded = queue_.load_record(seq, &s.rec);
    // A read that failed says nothing about the record: keep it and let the caller retry the card.
    if (loaded == LoadStatus::IoError) {
      if (window_len_ == 0) return StepResult::StorageError;
      break;
    }
    if (loaded == LoadStatus::Corrupt) {
      s.rec = ManifestRecord();
      s.rec.seq = seq;
      ApiResult why = local_failure("unreadable_record");
      if (!queue_.discard_unreadable(seq)) return StepResult::StorageError;
      forget_deferred(seq);
      emit(UploadEventKind::Discarded, s.rec, &why, "load");
      discarded = true;
    } else {
      // Photos from this boot taken before the clock was set wait (a while) for NTP.
      if (!s.rec.stamp.ntp_synced && s.rec.stamp.boot_id == cfg_.boot_id && !clock_.wall_synced() &&
          now < cfg_.clock_wait_ms) {
        if (window_len_ > 0 || discarded) break;
        uint64_t recheck = now + 1000;
        ready_at_ms_ = recheck < cfg_.clock_wait_ms ? recheck : cfg_.clock_wait_ms;
        return StepResult::Waiting;
      }
      const Deferred* d = find_deferred(seq);
      s.failures = d ? d->failures : 0;
      s.phase = s.rec.state == RecordState::Uploaded ? Phase::Uploaded : Phase::NeedTarget;
      if (++window_len_ == batch_limit_) break;
    }
    if (!next_photo(now, seq, &seq)) break;
  }
  // With photos in the window the step goes on to its exchange; a discard alone was the step.
  return window_len_ == 0 ? StepResult::Progress : StepResult::Waiting;
}

HttpConnection& Uploader::connection_for(const UploadTarget& t) {
  bool api_host = t.port == endpoint_.port && strcmp(t.host, endpoint_.host) == 0;
  return api_host ? api_conn_ : storage_conn_;
}

StepResult Uploader::step_within_budget() {
  if (token_dead_) return StepResult::TokenDead;
  StepResult cleaned;
  if (complete_done(&cleaned)) return cleaned;  // a step of card work alone
  uint64_t now = clock_.monotonic_ms();
  if (now < ready_at_ms_) return StepResult::Waiting;
  bool open = false;
  for (size_t i = 0; i < window_len_; ++i) open = open || window_[i].phase != Phase::Out;
  if (!open || filling_) {
    StepResult filled = fill_window(now);
    if (window_len_ == 0 || filling_) return filled;
  }
  // Targets go stale: ask again rather than PUT with a URL about to expire.
  for (size_t i = 0; i < window_len_; ++i) {
    Slot& slot = window_[i];
    if (slot.phase == Phase::HasTarget && now - slot.target_at_ms > cfg_.target_life_ms) slot.phase = Phase::NeedTarget;
  }
  // At most one PUT per step, with the ask before it and the ingest after it when they are
  // due, so one photo alone still goes out in one step and a step's time is bounded by one
  // photo's, whatever the window holds.
  bool put = false;
  StepResult result = StepResult::Progress;
  for (;;) {
    // Oldest first: the first photo still to send decides (a PUT, or the ask for all that
    // need a target); once every photo is sent, the ingest.
    Slot* next_put = nullptr;
    bool ask = false, ingest = false;
    for (size_t i = 0; i < window_len_ && !next_put && !ask; ++i) {
      Phase p = window_[i].phase;
      if (p == Phase::HasTarget) next_put = &window_[i];
      ask = p == Phase::NeedTarget && !reservations_full_;
      ingest = ingest || p == Phase::Uploaded;
    }
    for (size_t i = 0; i < window_len_ && !ingest; ++i) ingest = window_[i].phase == Phase::Uploaded;
    if (!next_put && !ask && !ingest && reservations_full_) {
      reservations_full_ = false;  // nothing else to send: ask again, and obey the wait if refused
      continue;
    }
    if (next_put) {
      if (put) return result;
      result = put_photo(*next_put);
      put = true;
    } else if (ask) {
      if (put) return result;
      result = ask_targets();
    } else if (ingest) {
      return ingest_window();
    } else {
      if (!any_done()) window_len_ = 0;  // Done photos are removed in the next steps
      return result;
    }
    if (result != StepResult::Progress || clock_.monotonic_ms() < ready_at_ms_) return result;
  }
}

// ---- targets -----------------------------------------------------------------------------------

size_t Uploader::plan_ask(Slot** asked) {
  size_t n = 0;
  // As many as the link can PUT while their URLs live (all of them until a PUT measured it).
  uint64_t budget = put_bytes_per_s_ > 0 ? put_bytes_per_s_ * (cfg_.target_life_ms / 2) / 1000 : UINT64_MAX;
  uint64_t planned = 0;
  for (size_t i = 0; i < window_len_; ++i) {
    Slot& s = window_[i];
    if (s.phase != Phase::NeedTarget) continue;
    if (n > 0 && planned + s.rec.size > budget) break;
    planned += s.rec.size;
    asked[n++] = &s;
  }
  return n;
}

StepResult Uploader::ask_targets() {
  Slot* asked[kMaxBatchItems];
  size_t n = plan_ask(asked);
  if (n > 1) {
    // A batch answer replaces the last one: targets still unsent in it are asked again with it
    // (a repeated seq gets its reservation back, freshly signed).
    bool replaced = false;
    for (size_t i = 0; i < window_len_; ++i) {
      Slot& s = window_[i];
      if (s.phase != Phase::HasTarget || s.target == kOwnTarget) continue;
      s.phase = Phase::NeedTarget;
      replaced = true;
    }
    if (replaced) n = plan_ask(asked);
  }
  for (size_t i = 0; i < n; ++i) {
    const ManifestRecord& rec = asked[i]->rec;
    CaptureStamp when = resolve_capture_time(rec.stamp, read_clock(clock_, cfg_.boot_id));
    char stamp[24];
    if (!format_file_stamp(when.wall_s, stamp, sizeof(stamp))) snprintf(stamp, sizeof(stamp), "unknown-time");
    snprintf(filenames_[i], sizeof(filenames_[i]), "%.23s_%06lu.jpg", stamp, static_cast<unsigned long>(rec.seq));
    asks_[i].filename = filenames_[i];
    asks_[i].content_type = cfg_.content_type;
    asks_[i].seq = rec.seq;
    asks_[i].size = rec.size;
    asks_[i].sha256 = rec.sha256;
  }
  uint64_t asked_at = clock_.monotonic_ms();
  ApiResult* results = results_;
  if (n == 1) {
    const UploadAsk& a = asks_[0];
    results[0] = api_.request_upload_url(cfg_.device_token, a.filename, a.content_type, a.seq, a.size, &target_,
                                         a.sha256);
    asked[0]->target = kOwnTarget;
  } else {
    ApiResult call = api_.request_upload_urls(cfg_.device_token, asks_, n, &targets_);
    if (!call.ok()) return on_call_failure(*asked[0], call, "upload-url");
    n = targets_.sent;
    for (size_t i = 0; i < n; ++i) {
      results[i] = api_.item_result(targets_, i, &target_, nullptr);
      asked[i]->target = uint8_t(i);
    }
  }
  bool others_sendable = has_sent_or_targets();
  for (size_t i = 0; i < n; ++i) others_sendable = others_sendable || results[i].ok();
  CallWait wait;
  for (size_t i = 0; i < n; ++i) {
    Slot& s = *asked[i];
    const ApiResult& r = results[i];
    if (r.ok()) {
      s.phase = Phase::HasTarget;
      s.target_at_ms = asked_at;
      continue;
    }
    // Ingested already (the answer to an ingest was lost): nothing left to send.
    if (r.outcome == ApiOutcome::Rejected && r.status == 409 && strcmp(r.code, "already_ingested") == 0) {
      if (!done(s, r, UploadEventKind::Duplicate, "upload-url")) return StepResult::StorageError;
      continue;
    }
    if (r.outcome == ApiOutcome::RateLimited && strcmp(r.code, "too_many_reservations") == 0 && others_sendable) {
      reservations_full_ = true;
      emit(UploadEventKind::Retry, s.rec, &r, "upload-url", 0);
      continue;
    }
    if (!settle(s, r, "upload-url", &wait, UploadEventKind::Ingested)) return StepResult::StorageError;
  }
  return after_call(asked, n, results, "upload-url", wait);
}

// ---- PUT -------------------------------------------------------------------------------------

ApiResult Uploader::send_photo(const ManifestRecord& rec) {
  char path[kMaxPathLen];
  if (!photo_path(rec.seq, path, sizeof(path))) return local_failure("bad_path");
  FileBodySource source(queue_.file_system(), path);
  if (!source.ok()) return local_failure("photo_unreadable");
  HttpHeader headers[kMaxUploadHeaders];
  for (size_t i = 0; i < target_.header_count; ++i) {
    headers[i].name = target_.header_names[i];
    headers[i].value = target_.header_values[i];
  }
  HttpRequest req;
  req.method = "PUT";
  req.host = target_.host;
  req.port = target_.port;
  req.path = target_.path;
  req.headers = headers;
  req.header_count = target_.header_count;
  req.stream = &source;
  req.stream_len = rec.size;
  req.stream_buf = chunk_;
  req.stream_chunk = cfg_.chunk_size;
  uint64_t start = clock_.monotonic_ms();
  HttpError err = connection_for(target_).exchange(req, put_resp_);
  if (err == HttpError::Source) return local_failure("photo_unreadable");
  ApiResult r = classify_response(err, put_resp_);
  uint64_t took = clock_.monotonic_ms() - start;
  if (r.ok() && took > 0) put_bytes_per_s_ = rec.size * 1000 / took;
  return r;
}

StepResult Uploader::put_photo(Slot& s) {
  if (s.target != kOwnTarget) {
    ApiResult r = api_.item_result(targets_, s.target, &target_, nullptr);
    if (!r.ok()) {  // read and checked when it came: only a changed buffer gets here
      s.phase = Phase::NeedTarget;
      return StepResult::Progress;
    }
    s.target = kOwnTarget;
  }
  // Protected from eviction until it is ingested, quarantined or set aside, across reboots.
  queue_.set_in_flight(s.rec.seq);
  ApiResult r = send_photo(s.rec);
  // 412: the store already holds this key (a PUT whose answer was lost); ingest checks the bytes.
  if (r.ok() || (r.outcome == ApiOutcome::Rejected && r.status == 412)) {
    s.phase = Phase::Uploaded;
    s.rec.state = RecordState::Uploaded;
    snprintf(s.rec.object_key, sizeof(s.rec.object_key), "%s", target_.object_key);
    // If this save is lost, the photo is simply sent again (same seq -> same object key).
    queue_.save(s.rec);
    emit(UploadEventKind::Uploaded, s.rec, &r, "put");
    return StepResult::Progress;
  }
  // The target is spent whatever happened; the retry asks for a fresh one.
  s.phase = Phase::NeedTarget;
  if (r.outcome == ApiOutcome::Rejected && strcmp(r.code, "photo_unreadable") == 0) {
    // Evicted for room while it waited in the window (counted as dropped): nothing to send.
    char record[kMaxPathLen];
    if (manifest_path(s.rec.seq, record, sizeof(record)) && !queue_.file_system().exists(record)) {
      forget_deferred(s.rec.seq);
      leave_window(s);
      return StepResult::Progress;
    }
    return on_read_error(s, r);
  }
  if (r.outcome == ApiOutcome::Unauthorized) return on_call_failure(s, r, "put");
  Slot* one[1] = {&s};
  CallWait wait;
  if (!settle(s, r, "put", &wait, UploadEventKind::Ingested)) return StepResult::StorageError;
  return after_call(one, 1, &r, "put", wait);
}

// ---- ingest ----------------------------------------------------------------------------------

void Uploader::fill_ingest(const ManifestRecord& rec, IngestRequest* req, char* captured_at, size_t cap) {
  CaptureStamp when = resolve_capture_time(rec.stamp, read_clock(clock_, cfg_.boot_id));
  if (!format_iso8601_utc(when.wall_s, captured_at, cap)) format_iso8601_utc(0, captured_at, cap);
  *req = IngestRequest();
  req->object_key = rec.object_key;
  req->captured_at = captured_at;
  req->seq = rec.seq;
  req->content_type = cfg_.content_type;
  req->ntp_synced = when.ntp_synced;
  req->frame = rec.frame;
  req->sha256 = rec.sha256;
  req->size = rec.size;
  req->time_corrected = when.time_corrected;
  req->boot_id = rec.stamp.boot_id;
  req->uptime_ms = rec.stamp.mono_ms;
}

bool Uploader::has_sent_or_targets() const {
  for (size_t i = 0; i < window_len_; ++i) {
    if (window_[i].phase == Phase::HasTarget || window_[i].phase == Phase::Uploaded) return true;
  }
  return false;
}

StepResult Uploader::ingest_window() {
  reservations_full_ = false;  // this ingest frees the reservations of the photos it takes
  Slot* sent[kMaxBatchItems];
  size_t n = 0;
  for (size_t i = 0; i < window_len_; ++i) {
    if (window_[i].phase != Phase::Uploaded) continue;
    fill_ingest(window_[i].rec, &ingest_reqs_[n], captured_at_[n], sizeof(captured_at_[n]));
    sent[n++] = &window_[i];
  }
  ApiResult* results = results_;
  IngestReply* replies = replies_;
  if (n == 1) {
    results[0] = api_.ingest(cfg_.device_token, ingest_reqs_[0], &replies[0]);
  } else {
    ApiResult call = api_.ingest_batch(cfg_.device_token, ingest_reqs_, n, &ingested_);
    if (!call.ok()) return on_call_failure(*sent[0], call, "ingest");
    n = ingested_.sent;
    for (size_t i = 0; i < n; ++i) results[i] = api_.item_result(ingested_, i, nullptr, &replies[i]);
  }
  CallWait wait;
  for (size_t i = 0; i < n; ++i) {
    UploadEventKind kind = replies[i].duplicate ? UploadEventKind::Duplicate : UploadEventKind::Ingested;
    if (!settle(*sent[i], results[i], "ingest", &wait, kind)) return StepResult::StorageError;
  }
  return after_call(sent, n, results, "ingest", wait);
}

// ---- outcomes --------------------------------------------------------------------------------

bool Uploader::done(Slot& s, const ApiResult& r, UploadEventKind kind, const char* step) {
  // Its files go in the next steps (complete_done); until then it holds its place in the window,
  // so it is not picked again. A reboot before that sends it again and the server says duplicate.
  forget_deferred(s.rec.seq);
  s.phase = Phase::Done;
  backoff_.reset();
  emit(kind, s.rec, &r, step);
  return true;
}

void Uploader::drop_window() {
  // What the server already has leaves the card now: with a dead token it would not be sent
  // under this device again, and a device paired anew must not send it twice.
  for (size_t i = 0; i < window_len_; ++i) {
    if (window_[i].phase == Phase::Done && queue_.complete(window_[i].rec.seq)) leave_window(window_[i]);
  }
  window_len_ = 0;
  filling_ = false;
}

void Uploader::token_refused() {
  token_dead_ = true;
  drop_window();
}

bool Uploader::any_done() const {
  for (size_t i = 0; i < window_len_; ++i) {
    if (window_[i].phase == Phase::Done) return true;
  }
  return false;
}

bool Uploader::complete_done(StepResult* result) {
  uint32_t completed = 0;
  for (size_t i = 0; i < window_len_; ++i) {
    Slot& s = window_[i];
    if (s.phase != Phase::Done) continue;
    if (cfg_.completions_per_step > 0 && completed == cfg_.completions_per_step) break;
    if (!queue_.complete(s.rec.seq)) {
      *result = StepResult::StorageError;
      return true;
    }
    leave_window(s);
    ++completed;
  }
  *result = StepResult::Progress;
  return completed > 0;
}

void Uploader::start_over(Slot& s) {
  // Back to PENDING: the next attempt asks for a fresh target and sends the bytes again.
  s.phase = Phase::NeedTarget;
  s.rec.state = RecordState::Pending;
  s.rec.object_key[0] = '\0';
  queue_.save(s.rec);
}

bool Uploader::quarantine(Slot& s, const ApiResult& r, const char* step) {
  char reason[kReasonCap];
  snprintf(reason, sizeof(reason), "%s:%d:%s", step, r.status, r.code);
  if (!queue_.quarantine(s.rec, reason)) return false;
  forget_deferred(s.rec.seq);
  leave_window(s);
  emit(UploadEventKind::Quarantined, s.rec, &r, step);
  return true;
}

bool Uploader::settle(Slot& s, const ApiResult& r, const char* step, CallWait* wait, UploadEventKind done_kind) {
  if (r.ok()) return done(s, r, done_kind, step);
  switch (r.outcome) {
    case ApiOutcome::Ok:
      return true;
    case ApiOutcome::Unauthorized:
      // One item's 401 is the token's: the whole window stops (after_call).
      token_dead_ = true;
      return true;
    case ApiOutcome::RateLimited:
    case ApiOutcome::Network:
    case ApiOutcome::ServerError:
      if (!wait->transient) wait->first_transient = r;
      wait->transient = true;
      return true;
    case ApiOutcome::Rejected:
      break;
  }
  if (strcmp(step, "ingest") == 0 && r.status == 409 && strcmp(r.code, "object_missing") == 0) {
    // Storage lost the object: send the bytes again, right away the first time.
    start_over(s);
    ++s.missing;
    emit(UploadEventKind::Reupload, s.rec, &r, "ingest");
    if (s.missing > 1) wait->paced = true; else wait->immediate = true;
    return true;
  }
  bool from_api = strcmp(step, "put") != 0;
  // The server says this photo can never be accepted as it is.
  if (from_api && (r.status == 409 || r.status == 413 || r.status == 415)) return quarantine(s, r, step);
  if (++s.rejections >= cfg_.max_rejections) return quarantine(s, r, step);
  if (strcmp(step, "ingest") == 0 && s.rec.state == RecordState::Uploaded) start_over(s);
  wait->paced = true;
  return true;
}

void Uploader::note_failure(Slot& s, const ApiResult& r, const char* step, uint32_t delay_ms) {
  emit(UploadEventKind::Retry, s.rec, &r, step, delay_ms);
  if (++s.failures < cfg_.stuck_after_failures) return;
  // Its own, longer wait (the backoff ceiling for its count), then it is the oldest again;
  // the photos behind it go first meanwhile.
  uint32_t own = backoff_ceiling_ms(backoff_.config(), s.failures);
  if (own < delay_ms) own = delay_ms;
  defer(s, own);
  leave_window(s);
  emit(UploadEventKind::Deferred, s.rec, &r, step, own);
}

StepResult Uploader::after_call(Slot* const* slots, size_t n, const ApiResult* results, const char* step,
                                CallWait& wait) {
  if (token_dead_) {
    for (size_t i = 0; i < n; ++i) {
      if (results[i].outcome != ApiOutcome::Unauthorized) continue;
      emit(UploadEventKind::TokenDead, slots[i]->rec, &results[i], step);
      break;
    }
    drop_window();
    return StepResult::TokenDead;
  }
  if (batch_limit_ < max_window_) batch_limit_ = batch_limit_ * 2 < max_window_ ? batch_limit_ * 2 : max_window_;
  // One wait for the whole call, however many of its items failed.
  uint32_t delay = 0;
  if (wait.transient) {
    delay = retry_delay_ms(backoff_, wait.first_transient, clock_.wall_synced() ? clock_.wall_utc_s() : -1);
  } else if (wait.paced) {
    delay = backoff_.next_delay_ms();
  } else if (!wait.immediate) {
    return StepResult::Progress;
  }
  ready_at_ms_ = clock_.monotonic_ms() + delay;
  for (size_t i = 0; i < n; ++i) {
    const ApiResult& r = results[i];
    bool transient = r.outcome == ApiOutcome::RateLimited || r.outcome == ApiOutcome::Network ||
                     r.outcome == ApiOutcome::ServerError;
    bool settled = slots[i]->phase == Phase::Out || slots[i]->phase == Phase::Done;
    bool refused = r.outcome == ApiOutcome::Rejected && !settled &&
                   !(r.status == 409 && strcmp(r.code, "object_missing") == 0);
    if (transient || refused) note_failure(*slots[i], r, step, delay);
  }
  return StepResult::Progress;
}

StepResult Uploader::on_call_failure(Slot& oldest, const ApiResult& r, const char* step) {
  if (r.outcome == ApiOutcome::Unauthorized) {
    token_dead_ = true;
    emit(UploadEventKind::TokenDead, oldest.rec, &r, step);
    drop_window();
    return StepResult::TokenDead;
  }
  // The call failed as a whole: nothing is known of any item. The oldest photo takes the
  // failure as the single route would; a server that cannot take the batch gets smaller ones
  // (down to the single routes, where one bad photo is set aside by itself).
  if (r.outcome == ApiOutcome::ServerError || r.outcome == ApiOutcome::Rejected) {
    batch_limit_ = batch_limit_ > 1 ? batch_limit_ / 2 : 1;
    for (size_t i = batch_limit_; i < window_len_; ++i) leave_window(window_[i]);
  }
  uint32_t delay = r.outcome == ApiOutcome::Rejected
                       ? backoff_.next_delay_ms()
                       : retry_delay_ms(backoff_, r, clock_.wall_synced() ? clock_.wall_utc_s() : -1);
  ready_at_ms_ = clock_.monotonic_ms() + delay;
  note_failure(oldest, r, step, delay);
  return StepResult::Progress;
}

StepResult Uploader::on_read_error(Slot& s, const ApiResult& r) {
  if (++s.read_errors > cfg_.max_read_retries) return quarantine(s, r, "put") ? StepResult::Progress
                                                                               : StepResult::StorageError;
  if (cfg_.card && !cfg_.card->remount()) return StepResult::StorageError;
  // The bytes already sent are lost with the aborted request; the next step sends them again.
  uint32_t delay = 1000 * s.read_errors;
  ready_at_ms_ = clock_.monotonic_ms() + delay;
  emit(UploadEventKind::ReadRetry, s.rec, &r, "put", delay);
  return StepResult::Progress;
}

}  // namespace lifelog
