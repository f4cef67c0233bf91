#pragma once
#include <cstddef>
#include <cstdint>

#include "backoff.h"
#include "capture_queue.h"
#include "clock.h"
#include "device_api.h"
#include "http.h"

namespace lifelog {

struct UploaderConfig {
  const char* device_token = nullptr;  // owned by the glue; never logged or stored on the card
  const char* content_type = "image/jpeg";
  size_t chunk_size = kMaxStreamChunk;  // PUT piece size, clamped to kMaxStreamChunk
  BackoffConfig backoff;
  uint32_t boot_id = 0;
  // How many refusals (4xx other than 401/409/429) one photo may collect before quarantine.
  uint32_t max_rejections = 3;
  // Photos from this boot taken before the clock was set wait (at most until this much
  // monotonic time since boot) for NTP, so they can go out with a corrected timestamp.
  uint64_t clock_wait_ms = 120000;
};

enum class UploadEventKind : uint8_t {
  Uploaded,     // bytes accepted by storage
  Ingested,     // server queued it; local copy deleted
  Duplicate,    // server already had it; local copy deleted
  Reupload,     // storage lost the object: sending the bytes again
  Retry,        // a step failed and will be retried (delay_ms says when)
  Quarantined,  // refused for good; moved to /failed
  Discarded,    // its record was unreadable
  TokenDead,    // 401: uploading stops until a new token is set
};
const char* upload_event_name(UploadEventKind k);

struct UploadEvent {
  UploadEventKind kind;
  uint32_t seq = 0;
  uint32_t frame = 0;
  int http_status = 0;
  const char* code = "";   // server error code or local reason
  const char* step = "";   // "upload-url", "put", "ingest"
  uint32_t delay_ms = 0;
  uint64_t bytes = 0;
};

class UploadObserver {
 public:
  virtual ~UploadObserver() = default;
  virtual void on_upload_event(const UploadEvent& e) = 0;
};

enum class StepResult : uint8_t {
  Idle,         // nothing to send
  Waiting,      // backing off; call again after ready_at_ms()
  Progress,     // did something (one photo done, quarantined, or a failure scheduled a retry)
  TokenDead,    // stopped: the server no longer accepts the token
  StorageError, // the card could not be read/written
};

// Sends the queue oldest-first: upload-url -> PUT (streamed) -> ingest -> delete.
// step() handles at most one photo so the caller can interleave captures.
class Uploader {
 public:
  // api and storage may wrap the same NetClient; pass the same HttpConnection twice to share one.
  Uploader(CaptureQueue& queue, HttpConnection& api, HttpConnection& storage, Clock& clock, Rng& rng,
           const ApiEndpoint& endpoint, const UploaderConfig& cfg, UploadObserver* observer = nullptr);

  StepResult step();
  bool token_dead() const { return token_dead_; }
  uint64_t ready_at_ms() const { return ready_at_ms_; }
  void set_token(const char* token);  // after re-activation; clears the dead state

 private:
  StepResult process(ManifestRecord& rec);
  ApiResult put_photo(const ManifestRecord& rec);
  StepResult ingest(ManifestRecord& rec);
  StepResult on_failure(ManifestRecord& rec, const ApiResult& r, const char* step);
  StepResult quarantine(ManifestRecord& rec, const ApiResult& r, const char* step);
  void start_over(ManifestRecord& rec);
  StepResult done(ManifestRecord& rec, const ApiResult& r, UploadEventKind kind, const char* step);
  void schedule_retry(uint32_t delay_ms, ManifestRecord& rec, const ApiResult& r, const char* step);
  void emit(UploadEventKind kind, const ManifestRecord& rec, const ApiResult* r, const char* step,
            uint32_t delay_ms = 0);

  CaptureQueue& queue_;
  HttpConnection& storage_conn_;
  Clock& clock_;
  Backoff backoff_;
  UploaderConfig cfg_;
  UploadObserver* observer_;
  DeviceApi api_;
  bool token_dead_ = false;
  uint64_t ready_at_ms_ = 0;
  uint32_t current_seq_ = kNoSeq;
  uint32_t rejections_ = 0;  // for current_seq_
  uint32_t missing_ = 0;     // object_missing answers for current_seq_
  ManifestRecord rec_;
  UploadTarget target_;
  HttpResponse put_resp_;
  uint8_t chunk_[kMaxStreamChunk] = {};
};

}  // namespace lifelog
