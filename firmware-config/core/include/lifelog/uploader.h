#pragma once
#include <cstddef>
#include <cstdint>

#include "backoff.h"
#include "capture_queue.h"
#include "card_mount.h"
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
  // Wall time one step() may take (upload-url + PUT + ingest). A photo that cannot finish in it
  // is dropped mid-way (connection aborted) and retried later; the budget is what bounds a link
  // that trickles just fast enough to beat the idle timeout. The watchdog is fed from inside the
  // step (io_listener), so the budget may exceed the watchdog's timeout.
  uint32_t step_budget_ms = 240000;
  uint32_t idle_timeout_ms = 15000;  // no byte moved either way for this long: give up the request
  IoListener* io_listener = nullptr; // told of every bounded wait inside a step (feed the watchdog)
  // After this many retryable failures in a row, a photo waits on its own backoff and the photos
  // behind it go first, so one photo that cannot get through does not hold up the queue.
  uint32_t stuck_after_failures = 3;
  // Card read errors while sending a photo: remount and retry this many times, then quarantine.
  uint32_t max_read_retries = 3;
  CardMount* card = nullptr;  // null: no remount, a read error is retried as is
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
  Deferred,     // failed again and again: the photos behind it go first for a while
  ReadRetry,    // the card failed mid-read: remounted, the photo is sent again
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
  uint64_t last_step_ms() const { return last_step_ms_; }  // duration of the last step()
  uint64_t longest_step_ms() const { return longest_step_ms_; }
  void set_token(const char* token);  // after re-activation; clears the dead state

 private:
  static constexpr size_t kMaxDeferred = 8;
  struct Deferred {
    uint32_t seq;
    uint32_t failures;
    uint64_t until_ms;
  };
  StepResult step_within_budget();
  // The oldest photo not waiting on its own backoff; false with *wake_ms set when all wait.
  bool choose_photo(uint64_t now, uint32_t* seq, uint64_t* wake_ms, bool* any);
  Deferred* find_deferred(uint32_t seq);
  void forget_deferred(uint32_t seq);
  void defer(uint32_t seq, uint32_t delay_ms);
  void select(uint32_t seq);
  void photo_done();
  StepResult on_read_error(ManifestRecord& rec, const ApiResult& r);
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
  uint32_t failures_ = 0;    // retryable failures in a row for current_seq_
  uint32_t read_errors_ = 0; // card read errors for current_seq_
  Deferred deferred_[kMaxDeferred] = {};
  size_t deferred_len_ = 0;
  HttpConnection& api_conn_;
  uint64_t last_step_ms_ = 0;
  uint64_t longest_step_ms_ = 0;
  ManifestRecord rec_;
  UploadTarget target_;
  HttpResponse put_resp_;
  uint8_t chunk_[kMaxStreamChunk] = {};
};

}  // namespace lifelog
