#pragma once
#include <cstddef>
#include <cstdint>

#include "clock.h"
#include "net_client.h"
#include "retry_after.h"

namespace lifelog {

constexpr size_t kMaxResponseBody = 4096;  // JSON answers; anything longer is cut and flagged
constexpr size_t kMaxStreamChunk = 8192;

struct HttpResponse {
  HttpResponse() = default;
  HttpResponse(const HttpResponse&) = delete;  // body may point into itself
  HttpResponse& operator=(const HttpResponse&) = delete;

  int status = 0;
  bool keep_alive = true;
  RetryAfter retry_after;      // Retry-After, either form
  int64_t date_s = -1;         // the Date header (server's clock), -1 when absent or unreadable
  int64_t range_total = -1;    // the size after "/" in Content-Range (a ranged GET), -1 when absent
  bool body_truncated = false;
  size_t body_len = 0;
  char* body = inline_body_;   // NUL-terminated; at most body_cap bytes are kept
  size_t body_cap = kMaxResponseBody;
  // A bigger body buffer for long answers (a batch's targets); buf holds cap + 1 bytes.
  void use_buffer(char* buf, size_t cap);
  void clear();

 private:
  char inline_body_[kMaxResponseBody + 1] = {};
};

// Incremental HTTP/1.x response reader: bytes can arrive split at any point.
class HttpResponseParser {
 public:
  enum class Result : uint8_t { NeedMore, Done, Error };
  void begin(HttpResponse* out);
  // Consumes bytes up to the end of the response; *consumed tells how many were used.
  Result feed(const uint8_t* data, size_t len, size_t* consumed);
  // The peer closed the connection: only a body delimited by the close is complete.
  Result finish_at_eof();
  bool started() const { return started_; }

 private:
  enum class Phase : uint8_t { StatusLine, Headers, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, UntilClose, Done };
  bool line_complete(uint8_t c);  // accumulates, true when a full line is in line_
  Result on_line();
  Result end_of_headers();
  void store_body(const uint8_t* data, size_t len);
  Result on_header(const char* name, const char* value);

  HttpResponse* out_ = nullptr;
  Phase phase_ = Phase::StatusLine;
  char line_[512] = {};
  size_t line_len_ = 0;
  bool line_overflow_ = false;
  uint64_t remaining_ = 0;
  bool chunked_ = false;
  bool has_length_ = false;
  bool http10_ = false;
  bool conn_close_ = false;
  bool conn_keep_ = false;
  bool started_ = false;
};

// Supplies a request body piece by piece (e.g. straight from a file on the card).
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual int32_t read(uint8_t* buf, size_t len) = 0;  // >0 bytes, 0 end, <0 error
  virtual bool rewind() = 0;
};

struct HttpHeader {
  const char* name;
  const char* value;
};

struct HttpRequest {
  const char* method = "POST";
  const char* host = nullptr;
  uint16_t port = 80;
  const char* path = "/";
  const HttpHeader* headers = nullptr;
  size_t header_count = 0;
  // Either a small body already in memory...
  const char* body = nullptr;
  size_t body_len = 0;
  // ...or one streamed from a source, exactly stream_len bytes, through the caller's buffer.
  BodySource* stream = nullptr;
  uint64_t stream_len = 0;
  uint8_t* stream_buf = nullptr;
  size_t stream_chunk = 0;
};

enum class HttpError : uint8_t { None, Connect, Send, Receive, BadResponse, Source, Timeout, OverBudget };
const char* http_error_name(HttpError e);

// Told about every bounded wait inside an exchange (bytes moved or one wait slice passed), so the
// caller can feed a watchdog from inside a long upload.
class IoListener {
 public:
  virtual ~IoListener() = default;
  virtual void on_io(uint64_t now_ms) = 0;
};

// The connection's clocks. Without a clock, a NetClient that reports kWouldBlock counts as timed out.
struct IoTiming {
  Clock* clock = nullptr;
  uint32_t idle_timeout_ms = 15000;   // measured from the last byte of progress, either way
  uint64_t deadline_ms = UINT64_MAX;  // monotonic; past it the exchange stops (OverBudget)
  IoListener* listener = nullptr;
};

// One keep-alive connection over a NetClient, reopened when the host changes or it breaks.
class HttpConnection {
 public:
  explicit HttpConnection(NetClient& net) : net_(net) {}
  ~HttpConnection() { close(); }
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  HttpError exchange(const HttpRequest& req, HttpResponse& resp);
  void close();
  void set_timing(const IoTiming& timing) { timing_ = timing; }
  void set_deadline(uint64_t deadline_ms) { timing_.deadline_ms = deadline_ms; }
  const char* last_net_error() { return net_.last_error(); }

 private:
  HttpError attempt(const HttpRequest& req, HttpResponse& resp, bool* response_started);
  HttpError send_request(const HttpRequest& req);
  HttpError read_response(HttpResponse& resp, bool* response_started);
  bool open_to(const char* host, uint16_t port);
  bool put(const char* text, size_t len);
  bool put(const char* text);
  bool flush_out();
  bool write_all(const uint8_t* data, size_t len);
  // After a wait slice or progress: false (with io_error_ set) when the idle timeout or the
  // deadline has passed.
  bool keep_waiting(bool progressed);

  NetClient& net_;
  IoTiming timing_;
  uint64_t last_progress_ms_ = 0;
  uint64_t last_unsent_ = 0;
  HttpError io_error_ = HttpError::None;
  HttpResponseParser parser_;
  char host_[128] = {};
  uint16_t port_ = 0;
  bool open_ = false;
  char out_[768] = {};
  size_t out_len_ = 0;
  uint8_t in_[512] = {};
};

}  // namespace lifelog
