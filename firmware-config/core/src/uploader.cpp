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
      storage_conn_(storage),
      clock_(clock),
      backoff_(cfg.backoff, rng),
      cfg_(cfg),
      observer_(observer),
      api_(api, endpoint),
      api_conn_(api) {
  if (cfg_.chunk_size == 0 || cfg_.chunk_size > kMaxStreamChunk) cfg_.chunk_size = kMaxStreamChunk;
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

void Uploader::defer(uint32_t seq, uint32_t delay_ms) {
  Deferred* d = find_deferred(seq);
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
    d->seq = seq;
  }
  d->failures = failures_;
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

void Uploader::select(uint32_t seq) {
  if (seq == current_seq_) return;
  current_seq_ = seq;
  rejections_ = 0;
  missing_ = 0;
  read_errors_ = 0;
  const Deferred* d = find_deferred(seq);
  failures_ = d ? d->failures : 0;
  // Protected from eviction until it is ingested, quarantined or discarded, across retries.
  queue_.set_in_flight(seq);
}

void Uploader::photo_done() {
  forget_deferred(current_seq_);
  queue_.clear_in_flight();
  current_seq_ = kNoSeq;
}

StepResult Uploader::step_within_budget() {
  if (token_dead_) return StepResult::TokenDead;
  uint64_t now = clock_.monotonic_ms();
  if (now < ready_at_ms_) return StepResult::Waiting;
  uint32_t seq;
  uint64_t wake = 0;
  bool any = false;
  if (!choose_photo(now, &seq, &wake, &any)) {
    if (!any) return StepResult::Idle;
    ready_at_ms_ = wake;
    return StepResult::Waiting;
  }
  select(seq);
  LoadStatus loaded = queue_.load_record(seq, &rec_);
  // A read that failed says nothing about the record: keep it and let the caller retry the card.
  if (loaded == LoadStatus::IoError) return StepResult::StorageError;
  if (loaded == LoadStatus::Corrupt) {
    rec_ = ManifestRecord();
    rec_.seq = seq;
    ApiResult why = local_failure("unreadable_record");
    if (!queue_.discard_unreadable(seq)) return StepResult::StorageError;
    photo_done();
    emit(UploadEventKind::Discarded, rec_, &why, "load");
    return StepResult::Progress;
  }
  now = clock_.monotonic_ms();
  if (!rec_.stamp.ntp_synced && rec_.stamp.boot_id == cfg_.boot_id && !clock_.wall_synced() &&
      now < cfg_.clock_wait_ms) {
    uint64_t recheck = now + 1000;
    ready_at_ms_ = recheck < cfg_.clock_wait_ms ? recheck : cfg_.clock_wait_ms;
    return StepResult::Waiting;
  }
  return process(rec_);
}

StepResult Uploader::process(ManifestRecord& rec) {
  if (rec.state == RecordState::Pending) {
    char stamp[24];
    char filename[64];
    CaptureStamp when = resolve_capture_time(rec.stamp, read_clock(clock_, cfg_.boot_id));
    if (!format_file_stamp(when.wall_s, stamp, sizeof(stamp))) snprintf(stamp, sizeof(stamp), "unknown-time");
    snprintf(filename, sizeof(filename), "%s_%06lu.jpg", stamp, static_cast<unsigned long>(rec.seq));
    ApiResult r = api_.request_upload_url(cfg_.device_token, filename, cfg_.content_type, rec.seq, rec.size,
                                          &target_, rec.sha256);
    // Ingested already (the answer to an ingest was lost): nothing left to send.
    if (r.outcome == ApiOutcome::Rejected && r.status == 409 && strcmp(r.code, "already_ingested") == 0) {
      return done(rec, r, UploadEventKind::Duplicate, "upload-url");
    }
    if (!r.ok()) return on_failure(rec, r, "upload-url");
    r = put_photo(rec);
    // 412: the store already holds this key (a PUT whose answer was lost); ingest checks the bytes.
    if (!r.ok() && !(r.outcome == ApiOutcome::Rejected && r.status == 412)) return on_failure(rec, r, "put");
    rec.state = RecordState::Uploaded;
    snprintf(rec.object_key, sizeof(rec.object_key), "%s", target_.object_key);
    // If this save is lost, the photo is simply sent again (same seq -> same object key).
    queue_.save(rec);
    emit(UploadEventKind::Uploaded, rec, &r, "put");
  }
  return ingest(rec);
}

ApiResult Uploader::put_photo(const ManifestRecord& rec) {
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
  HttpError err = storage_conn_.exchange(req, put_resp_);
  if (err == HttpError::Source) return local_failure("photo_unreadable");
  return classify_response(err, put_resp_);
}

StepResult Uploader::ingest(ManifestRecord& rec) {
  CaptureStamp when = resolve_capture_time(rec.stamp, read_clock(clock_, cfg_.boot_id));
  char captured_at[24];
  if (!format_iso8601_utc(when.wall_s, captured_at, sizeof(captured_at))) {
    format_iso8601_utc(0, captured_at, sizeof(captured_at));
  }
  IngestRequest req;
  req.object_key = rec.object_key;
  req.captured_at = captured_at;
  req.seq = rec.seq;
  req.content_type = cfg_.content_type;
  req.ntp_synced = when.ntp_synced;
  req.frame = rec.frame;
  req.sha256 = rec.sha256;
  req.size = rec.size;
  req.time_corrected = when.time_corrected;
  req.boot_id = rec.stamp.boot_id;
  req.uptime_ms = rec.stamp.mono_ms;
  IngestReply reply;
  ApiResult r = api_.ingest(cfg_.device_token, req, &reply);
  if (r.ok()) return done(rec, r, reply.duplicate ? UploadEventKind::Duplicate : UploadEventKind::Ingested, "ingest");
  if (r.outcome == ApiOutcome::Rejected && r.status == 409 && strcmp(r.code, "object_missing") == 0) {
    start_over(rec);
    ++missing_;
    // Send the bytes again right away the first time; after that, pace it like any failure.
    uint32_t delay = missing_ > 1 ? backoff_.next_delay_ms() : 0;
    ready_at_ms_ = clock_.monotonic_ms() + delay;
    emit(UploadEventKind::Reupload, rec, &r, "ingest", delay);
    return StepResult::Progress;
  }
  return on_failure(rec, r, "ingest");
}

StepResult Uploader::done(ManifestRecord& rec, const ApiResult& r, UploadEventKind kind, const char* step) {
  if (!queue_.complete(rec.seq)) return StepResult::StorageError;
  photo_done();
  backoff_.reset();
  emit(kind, rec, &r, step);
  return StepResult::Progress;
}

void Uploader::start_over(ManifestRecord& rec) {
  // Back to PENDING: the next attempt asks for a fresh target and sends the bytes again.
  rec.state = RecordState::Pending;
  rec.object_key[0] = '\0';
  queue_.save(rec);
}

void Uploader::schedule_retry(uint32_t delay_ms, ManifestRecord& rec, const ApiResult& r, const char* step) {
  ready_at_ms_ = clock_.monotonic_ms() + delay_ms;
  emit(UploadEventKind::Retry, rec, &r, step, delay_ms);
  if (++failures_ < cfg_.stuck_after_failures) return;
  // Its own, longer wait (the backoff ceiling for its count), then it is the oldest again.
  uint32_t own = backoff_ceiling_ms(backoff_.config(), failures_);
  if (own < delay_ms) own = delay_ms;
  defer(rec.seq, own);
  current_seq_ = kNoSeq;  // the next step chooses again
  emit(UploadEventKind::Deferred, rec, &r, step, own);
}

StepResult Uploader::on_read_error(ManifestRecord& rec, const ApiResult& r) {
  if (++read_errors_ > cfg_.max_read_retries) return quarantine(rec, r, "put");
  if (cfg_.card && !cfg_.card->remount()) return StepResult::StorageError;
  // The bytes already sent are lost with the aborted request; the next step sends them again.
  uint32_t delay = 1000 * read_errors_;
  ready_at_ms_ = clock_.monotonic_ms() + delay;
  emit(UploadEventKind::ReadRetry, rec, &r, "put", delay);
  return StepResult::Progress;
}

StepResult Uploader::quarantine(ManifestRecord& rec, const ApiResult& r, const char* step) {
  char reason[kReasonCap];
  snprintf(reason, sizeof(reason), "%s:%d:%s", step, r.status, r.code);
  if (!queue_.quarantine(rec, reason)) return StepResult::StorageError;
  photo_done();
  emit(UploadEventKind::Quarantined, rec, &r, step);
  return StepResult::Progress;
}

StepResult Uploader::on_failure(ManifestRecord& rec, const ApiResult& r, const char* step) {
  switch (r.outcome) {
    case ApiOutcome::Ok:
      return StepResult::Progress;
    case ApiOutcome::Unauthorized:
      token_dead_ = true;
      emit(UploadEventKind::TokenDead, rec, &r, step);
      return StepResult::TokenDead;
    case ApiOutcome::RateLimited:
    case ApiOutcome::Network:
    case ApiOutcome::ServerError:
      schedule_retry(retry_delay_ms(backoff_, r, clock_.wall_synced() ? clock_.wall_utc_s() : -1), rec, r, step);
      return StepResult::Progress;
    case ApiOutcome::Rejected:
      break;
  }
  bool from_api = strcmp(step, "put") != 0;
  if (strcmp(r.code, "photo_unreadable") == 0) return on_read_error(rec, r);
  // The server says this photo can never be accepted as it is.
  if (from_api && (r.status == 409 || r.status == 413 || r.status == 415)) return quarantine(rec, r, step);
  if (++rejections_ >= cfg_.max_rejections) return quarantine(rec, r, step);
  if (strcmp(step, "ingest") == 0 && rec.state == RecordState::Uploaded) start_over(rec);
  schedule_retry(backoff_.next_delay_ms(), rec, r, step);
  return StepResult::Progress;
}

}  // namespace lifelog
