#pragma once
#include <cstddef>
#include <cstdint>

#include "clock.h"
#include "http.h"
#include "json.h"

namespace lifelog {

// Where the API lives: "http://127.0.0.1:54321/functions/v1" -> host, port, "/functions/v1".
struct ApiEndpoint {
  char host[96] = {};
  uint16_t port = 80;
  char prefix[128] = {};
  bool tls = false;  // for the glue: which NetClient to hand over
  // When set, every API request says which boot sent it and the uptime then
  // (X-Device-Boot, X-Device-Uptime-Ms): the server dates a boot that never gets NTP.
  uint32_t boot_id = 0;
  Clock* clock = nullptr;
};
bool parse_base_url(const char* url, ApiEndpoint* out);

enum class ApiOutcome : uint8_t {
  Ok,
  Network,       // no usable answer: connect/send/receive failed
  ServerError,   // 5xx, 408 or an unreadable answer
  RateLimited,   // 429
  Unauthorized,  // 401: the token is dead
  Rejected,      // any other 4xx; see status and code
};

struct ApiResult {
  ApiOutcome outcome = ApiOutcome::Ok;
  int status = 0;
  RetryAfter retry_after;     // as the server sent it (429 and 503 carry it here)
  int64_t server_date_s = -1;  // the answer's Date header, to measure an HTTP-date against
  char code[40] = {};  // error.code from the body, or a local reason
  bool ok() const { return outcome == ApiOutcome::Ok; }
};

constexpr size_t kMaxUploadHeaders = 8;

struct UploadTarget {
  char object_key[256] = {};
  char host[128] = {};
  uint16_t port = 0;
  char path[2048] = {};
  size_t header_count = 0;
  char header_names[kMaxUploadHeaders][64] = {};
  char header_values[kMaxUploadHeaders][256] = {};
};

struct IngestRequest {
  const char* object_key = nullptr;
  const char* captured_at = nullptr;  // ISO-8601 UTC
  uint32_t seq = 0;
  const char* content_type = "image/jpeg";
  bool ntp_synced = false;
  // metadata
  uint32_t frame = 0;
  const char* sha256 = nullptr;
  uint64_t size = 0;
  bool time_corrected = false;
  uint32_t boot_id = 0;
  // Unsynced photos: ms since boot `boot_id` at capture, so the server can date them once it
  // knows when that boot started.
  uint64_t uptime_ms = 0;
};

struct IngestReply {
  bool duplicate = false;
  char item_id[64] = {};
};

// One photo's ask for an upload target (what POST /devices/upload-url takes).
struct UploadAsk {
  const char* filename = nullptr;
  const char* content_type = "image/jpeg";
  uint32_t seq = 0;
  uint64_t size = 0;
  const char* sha256 = nullptr;  // may be null
};

// The batch routes (upload-urls, ingest-batch) take at most this many items per call
// (MAX_BATCH_ITEMS in functions/devices/batch.ts).
constexpr size_t kMaxBatchItems = 32;
// What one upload-urls result may take in an answer: a signed URL twice (whole and as a path)
// plus its headers; about 1.7 KB from the s3 driver. Used to size how many to ask for.
constexpr size_t kBatchTargetAnswerBytes = 2048;

// Memory for batch calls, owned by the glue (on the board: PSRAM). A batch of 32 targets is
// about 55 KB of answer; the request (32 ingest items) about 14 KB.
struct BatchBuffers {
  char* request = nullptr;
  size_t request_cap = 0;
  char* answer = nullptr;  // holds answer_cap + 1 bytes
  size_t answer_cap = 0;
  bool usable() const { return request && answer && request_cap >= 64 && answer_cap >= kBatchTargetAnswerBytes; }
};
// What a full window needs: 32 ingest items (~420 B each) and 32 targets.
constexpr size_t kBatchRequestBytes = 16 * 1024;
constexpr size_t kBatchAnswerBytes = kMaxBatchItems * kBatchTargetAnswerBytes;
// Buffers over `request` (kBatchRequestBytes) and `answer` (kBatchAnswerBytes + 1); empty
// (not usable) when either is null.
inline BatchBuffers full_window_buffers(char* request, char* answer) {
  BatchBuffers b;
  if (!request || !answer) return b;
  b.request = request;
  b.request_cap = kBatchRequestBytes;
  b.answer = answer;
  b.answer_cap = kBatchAnswerBytes;
  return b;
}

// A batch call's answer: how many items were sent and where each result lies in the answer
// text (kept in BatchBuffers::answer until the next batch call). Results are read one at a
// time, so the answer never becomes one big JSON tree in RAM.
struct BatchAnswer {
  size_t sent = 0;
  JsonSpan results[kMaxBatchItems];
};

struct Activation {
  char device_id[64] = {};
  char device_token[160] = {};
};

// Maps an HTTP answer (or transport failure) to what the device should do about it.
ApiResult classify_response(HttpError err, const HttpResponse& resp);
// A refusal decided on the device (nothing sent, or nothing to send): Rejected with code `why`.
ApiResult local_failure(const char* why);
// A 2xx whose body is not what the route promises: treated like a server error.
ApiResult unexpected_answer(int status);

// POSTs a JSON body to endpoint.prefix + route (with the device token when not null).
ApiResult post_json(HttpConnection& conn, const ApiEndpoint& endpoint, const char* route, const char* token,
                    const char* body, HttpResponse& resp);

// The device routes, over one HTTP connection. Holds no secrets: the token is passed per call.
class DeviceApi {
 public:
  DeviceApi(HttpConnection& conn, const ApiEndpoint& endpoint) : conn_(conn), endpoint_(endpoint) {}

  // activation_key: see activation_key.h (may be null: then a lost answer uses up the code).
  ApiResult activate(const char* pairing_code, const char* activation_key, Activation* out);
  // sha256_hex (may be null): the photo's checksum, signed into the PUT where the store checks it.
  ApiResult request_upload_url(const char* token, const char* filename, const char* content_type,
                               uint32_t seq, uint64_t size, UploadTarget* out, const char* sha256_hex = nullptr);
  ApiResult ingest(const char* token, const IngestRequest& req, IngestReply* out);

  // The batch routes. Without usable buffers they refuse locally ("no_batch_buffers").
  // The call's result covers the call itself; each item's own outcome comes from
  // item_result(). Fewer items than asked are sent when the request buffer is full
  // (out->sent says how many: the first ones).
  void use_batch_buffers(const BatchBuffers& buffers);
  bool batches_usable() const { return batch_.usable(); }
  // How many targets one upload-urls answer can hold in this answer buffer.
  size_t target_batch_limit() const;
  ApiResult request_upload_urls(const char* token, const UploadAsk* asks, size_t n, BatchAnswer* out);
  ApiResult ingest_batch(const char* token, const IngestRequest* reqs, size_t n, BatchAnswer* out);
  // Item i of the last batch answer, as the single route's answer would classify. On success
  // the target / reply is filled in (pass the one that matches the call).
  ApiResult item_result(const BatchAnswer& answer, size_t i, UploadTarget* target, IngestReply* reply) const;

 private:
  ApiResult post(const char* route, const char* token);
  template <typename Request, typename Answer>
  ApiResult call(const char* route, const char* token, bool (*add)(cJSON*, const Request&), const Request& request,
                 bool (*parse)(const cJSON*, Answer*), Answer* out);
  template <typename Request>
  ApiResult call_batch(const char* route, const char* token, bool (*add)(cJSON*, const Request&),
                       const Request* requests, size_t n, size_t limit, BatchAnswer* out);

  HttpConnection& conn_;
  const ApiEndpoint& endpoint_;
  char body_[1536] = {};
  HttpResponse resp_;
  BatchBuffers batch_;
  HttpResponse batch_resp_;
};

}  // namespace lifelog
