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
  // Photos per batch call (upload-urls, ingest-batch) when more than one is queued; 1 keeps
  // to the single routes. Batches need `batch` buffers; without them the single routes are used.
  uint32_t max_batch = kMaxBatchItems;
  BatchBuffers batch;
  // A target older than this is asked for again rather than PUT (the server signs URLs for
  // 300 s, DEVICE_UPLOAD_URL_TTL_SECONDS; the margin covers one slow PUT and clock drift).
  uint32_t target_life_ms = 200000;
  // Wall time one step() (one exchange: an ask, a PUT or an ingest) may take. A PUT that
  // cannot finish in it is dropped mid-way (connection aborted) and retried later; the budget
  // is what bounds a link that trickles just fast enough to beat the idle timeout. The watchdog
  // is fed from inside the step (io_listener), so the budget may exceed the watchdog's timeout.
  uint32_t step_budget_ms = 240000;
  // Card work per step, so no step reads more than a bounded number of sectors whatever the
  // window holds (arduino-esp32 3.x's SD.open() stats twice before its fopen and SD.remove()
  // opens the file before unlinking it: each costs three folder lookups). A window's records
  // are loaded this many per step, and the photos an exchange settled (ingested, or known to
  // the server) are removed from the card this many per step. 0: no limit.
  uint32_t loads_per_step = 16;
  uint32_t completions_per_step = 8;
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

// Sends the queue oldest-first, a window of up to max_batch photos at a time: targets for the
// window (upload-urls, or upload-url for one photo), each photo PUT (streamed from the card),
// then one ingest call for the window (ingest-batch, or ingest), then the local copies go.
// Each item gets the single route's treatment: its own status, retries and quarantine.
// step() makes at most one exchange so the caller can interleave captures.
class Uploader {
 public:
  // api and storage may wrap the same NetClient; pass the same HttpConnection twice to share one.
  // A target on the API's own host and port (Supabase: one host for both) goes over `api`.
  Uploader(CaptureQueue& queue, HttpConnection& api, HttpConnection& storage, Clock& clock, Rng& rng,
           const ApiEndpoint& endpoint, const UploaderConfig& cfg, UploadObserver* observer = nullptr);

  StepResult step();
  bool token_dead() const { return token_dead_; }
  uint64_t ready_at_ms() const { return ready_at_ms_; }
  uint64_t last_step_ms() const { return last_step_ms_; }  // duration of the last step()
  uint64_t longest_step_ms() const { return longest_step_ms_; }
  size_t batch_limit() const { return batch_limit_; }  // photos the next window may hold
  void set_token(const char* token);  // after re-activation; clears the dead state
  // The token died outside the uploader (a heartbeat's 401): the window is given up as after
  // an upload's own 401, so what the server already has leaves the card now.
  void token_refused();

 private:
  static constexpr size_t kMaxDeferred = 8;
  static constexpr uint8_t kOwnTarget = 0xFF;  // the target is in target_ (single route)
  struct Deferred {
    uint32_t seq;
    uint32_t failures;
    uint64_t until_ms;
  };
  // Done: the server has it; its record and photo are still on the card (complete_done()).
  enum class Phase : uint8_t { NeedTarget, HasTarget, Uploaded, Done, Out };
  // One photo of the window and what it has been through (the per-photo rules of the
  // single route: rejections, missing objects, retryable failures in a row, read errors).
  struct Slot {
    ManifestRecord rec;
    Phase phase = Phase::Out;
    uint8_t target = kOwnTarget;  // its target: an item of targets_, or target_
    uint64_t target_at_ms = 0;    // when that target was signed
    uint32_t rejections = 0;
    uint32_t missing = 0;
    uint32_t failures = 0;
    uint32_t read_errors = 0;
  };
  // How one call went for the window: the wait it leaves, decided once per call.
  struct CallWait {
    bool transient = false;  // a retryable failure: backoff or Retry-After
    ApiResult first_transient;
    bool paced = false;      // a refusal or repeated reupload: the next backoff step
    bool immediate = false;  // a first reupload: again right away
  };

  StepResult step_within_budget();
  StepResult fill_window(uint64_t now);
  // Removes up to completions_per_step Done photos from the card; false if there were none.
  bool complete_done(StepResult* result);
  bool any_done() const;
  void drop_window();  // the window is given up (dead token): Done photos are completed first
  bool choose_photo(uint64_t now, uint32_t* seq, uint64_t* wake_ms, bool* any);
  bool next_photo(uint64_t now, uint32_t after, uint32_t* seq);
  Deferred* find_deferred(uint32_t seq);
  void forget_deferred(uint32_t seq);
  void defer(const Slot& s, uint32_t delay_ms);
  size_t plan_ask(Slot** asked);  // the photos the next ask is for, oldest first
  StepResult ask_targets();
  StepResult put_photo(Slot& s);
  ApiResult send_photo(const ManifestRecord& rec);
  StepResult ingest_window();
  bool has_sent_or_targets() const;
  void fill_ingest(const ManifestRecord& rec, IngestRequest* req, char* captured_at, size_t cap);
  // Applies one item's answer; false only when the card failed.
  bool settle(Slot& s, const ApiResult& r, const char* step, CallWait* wait, UploadEventKind done_kind);
  StepResult after_call(Slot* const* slots, size_t n, const ApiResult* results, const char* step, CallWait& wait);
  StepResult on_call_failure(Slot& oldest, const ApiResult& r, const char* step);
  StepResult on_read_error(Slot& s, const ApiResult& r);
  bool quarantine(Slot& s, const ApiResult& r, const char* step);
  bool done(Slot& s, const ApiResult& r, UploadEventKind kind, const char* step);
  void start_over(Slot& s);
  void note_failure(Slot& s, const ApiResult& r, const char* step, uint32_t delay_ms);
  void leave_window(Slot& s);
  void emit(UploadEventKind kind, const ManifestRecord& rec, const ApiResult* r, const char* step,
            uint32_t delay_ms = 0);
  HttpConnection& connection_for(const UploadTarget& t);

  CaptureQueue& queue_;
  HttpConnection& api_conn_;
  HttpConnection& storage_conn_;
  Clock& clock_;
  Backoff backoff_;
  UploaderConfig cfg_;
  UploadObserver* observer_;
  const ApiEndpoint& endpoint_;
  DeviceApi api_;
  bool token_dead_ = false;
  bool filling_ = false;    // a window is being loaded over several steps
  // The server holds too many of this device's upload URLs open: photos needing a target wait
  // while the ones already sent are PUT and ingested (which frees them).
  bool reservations_full_ = false;
  uint32_t fill_next_ = 0;  // the seq it goes on with
  uint64_t ready_at_ms_ = 0;
  Deferred deferred_[kMaxDeferred] = {};
  size_t deferred_len_ = 0;
  uint64_t last_step_ms_ = 0;
  uint64_t longest_step_ms_ = 0;
  // The window: slots in queue order; a slot is Out once done, quarantined or set aside.
  Slot window_[kMaxBatchItems];
  size_t window_len_ = 0;
  size_t batch_limit_ = 1;
  size_t max_window_ = 1;
  BatchAnswer targets_;         // the last upload-urls answer (its text in cfg_.batch.answer)
  uint64_t put_bytes_per_s_ = 0;  // the link as the last PUT measured it (0: not yet)
  BatchAnswer ingested_;
  // Per-call scratch for up to a window of items (members, not locals: the board's loop task
  // has an 8 KB stack).
  UploadAsk asks_[kMaxBatchItems];
  char filenames_[kMaxBatchItems][48] = {};
  ApiResult results_[kMaxBatchItems];
  IngestReply replies_[kMaxBatchItems];
  IngestRequest ingest_reqs_[kMaxBatchItems];
  char captured_at_[kMaxBatchItems][24] = {};
  UploadTarget target_;
  HttpResponse put_resp_;
  uint8_t chunk_[kMaxStreamChunk] = {};
};

}  // namespace lifelog
