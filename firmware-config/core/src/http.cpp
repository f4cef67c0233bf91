#include "lifelog/http.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lifelog {
namespace {

bool equals_ci(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    char x = (*a >= 'A' && *a <= 'Z') ? char(*a + 32) : *a;
    char y = (*b >= 'A' && *b <= 'Z') ? char(*b + 32) : *b;
    if (x != y) return false;
  }
  return *a == *b;
}

// True if the comma-separated list holds token (case-insensitive), e.g. "gzip, chunked".
bool list_has_token(const char* list, const char* token) {
  size_t tlen = strlen(token);
  const char* p = list;
  while (*p) {
    while (*p == ' ' || *p == '\t' || *p == ',') ++p;
    const char* start = p;
    while (*p && *p != ',' && *p != ';') ++p;
    const char* end = p;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) --end;
    if (size_t(end - start) == tlen) {
      char piece[32];
      if (tlen < sizeof(piece)) {
        memcpy(piece, start, tlen);
        piece[tlen] = '\0';
        if (equals_ci(piece, token)) return true;
      }
    }
    while (*p && *p != ',') ++p;
  }
  return false;
}

bool parse_decimal(const char* s, uint64_t* out) {
  while (*s == ' ' || *s == '\t') ++s;
  if (*s < '0' || *s > '9') return false;
  uint64_t v = 0;
  for (; *s >= '0' && *s <= '9'; ++s) {
    if (v > (UINT64_MAX - 9) / 10) return false;
    v = v * 10 + uint64_t(*s - '0');
  }
  while (*s == ' ' || *s == '\t') ++s;
  if (*s) return false;
  *out = v;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void HttpResponse::use_buffer(char* buf, size_t cap) {
  body = buf;
  body_cap = cap;
  clear();
}

void HttpResponse::clear() {
  status = 0;
  keep_alive = true;
  retry_after = RetryAfter();
  date_s = -1;
  range_total = -1;
  body_truncated = false;
  body_len = 0;
  body[0] = '\0';
}

const char* http_error_name(HttpError e) {
  switch (e) {
    case HttpError::None: return "none";
    case HttpError::Connect: return "connect_failed";
    case HttpError::Send: return "send_failed";
    case HttpError::Receive: return "receive_failed";
    case HttpError::BadResponse: return "bad_response";
    case HttpError::Source: return "source_failed";
    case HttpError::Timeout: return "timeout";
    case HttpError::OverBudget: return "over_budget";
  }
  return "unknown";
}

// ---------------------------------------------------------------- parser

void HttpResponseParser::begin(HttpResponse* out) {
  out_ = out;
  out_->clear();
  phase_ = Phase::StatusLine;
  line_len_ = 0;
  line_overflow_ = false;
  remaining_ = 0;
  chunked_ = has_length_ = http10_ = conn_close_ = conn_keep_ = false;
  started_ = false;
}

bool HttpResponseParser::line_complete(uint8_t c) {
  if (c == '\n') {
    if (line_len_ > 0 && line_[line_len_ - 1] == '\r') --line_len_;
    line_[line_len_] = '\0';
    return true;
  }
  if (line_len_ + 1 < sizeof(line_)) {
    line_[line_len_++] = char(c);
  } else {
    line_overflow_ = true;
  }
  return false;
}

void HttpResponseParser::store_body(const uint8_t* data, size_t len) {
  size_t room = out_->body_cap - out_->body_len;
  size_t take = len < room ? len : room;
  memcpy(out_->body + out_->body_len, data, take);
  out_->body_len += take;
  out_->body[out_->body_len] = '\0';
  if (take < len) out_->body_truncated = true;
}

HttpResponseParser::Result HttpResponseParser::on_header(const char* name, const char* value) {
  if (equals_ci(name, "content-length")) {
    uint64_t n;
    if (!parse_decimal(value, &n)) return Result::Error;
    if (has_length_ && n != remaining_) return Result::Error;
    has_length_ = true;
    remaining_ = n;
  } else if (equals_ci(name, "transfer-encoding")) {
    if (list_has_token(value, "chunked")) chunked_ = true;
  } else if (equals_ci(name, "connection")) {
    if (list_has_token(value, "close")) conn_close_ = true;
    if (list_has_token(value, "keep-alive")) conn_keep_ = true;
  } else if (equals_ci(name, "retry-after")) {
    parse_retry_after(value, &out_->retry_after);
  } else if (equals_ci(name, "date")) {
    int64_t when;
    if (parse_http_date(value, &when)) out_->date_s = when;
  } else if (equals_ci(name, "content-range")) {
    const char* slash = strchr(value, '/');
    uint64_t total;
    if (slash && parse_decimal(slash + 1, &total)) out_->range_total = int64_t(total);
  }
  return Result::NeedMore;
}

HttpResponseParser::Result HttpResponseParser::end_of_headers() {
  out_->keep_alive = http10_ ? (conn_keep_ && !conn_close_) : !conn_close_;
  if (out_->status >= 100 && out_->status < 200) {
    // Interim answer (e.g. 100 Continue): the real one follows.
    HttpResponse* out = out_;
    bool started = started_;
    begin(out);
    started_ = started;
    return Result::NeedMore;
  }
  if (out_->status == 204 || out_->status == 304) {
    phase_ = Phase::Done;
    return Result::Done;
  }
  if (chunked_) {
    phase_ = Phase::ChunkSize;
  } else if (has_length_) {
    phase_ = remaining_ == 0 ? Phase::Done : Phase::Body;
  } else {
    phase_ = Phase::UntilClose;
    out_->keep_alive = false;
  }
  return phase_ == Phase::Done ? Result::Done : Result::NeedMore;
}

HttpResponseParser::Result HttpResponseParser::on_line() {
  bool overflow = line_overflow_;
  line_overflow_ = false;
  line_len_ = 0;
  switch (phase_) {
    case Phase::StatusLine: {
      if (overflow) return Result::Error;
      if (line_[0] == '\0') return Result::NeedMore;  // tolerate a stray blank line
      if (strncmp(line_, "HTTP/1.", 7) != 0 || (line_[7] != '0' && line_[7] != '1') || line_[8] != ' ') {
        return Result::Error;
      }
      http10_ = line_[7] == '0';
      const char* s = line_ + 9;
      if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
          (s[3] != ' ' && s[3] != '\0')) {
        return Result::Error;
      }
      out_->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
      phase_ = Phase::Headers;
      return Result::NeedMore;
    }
    case Phase::Headers: {
      if (overflow) return Result::NeedMore;  // a header we do not need (ours are short)
      if (line_[0] == '\0') return end_of_headers();
      char* colon = strchr(line_, ':');
      if (!colon) return Result::Error;
      *colon = '\0';
      char* value = colon + 1;
      while (*value == ' ' || *value == '\t') ++value;
      size_t vlen = strlen(value);
      while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t')) value[--vlen] = '\0';
      return on_header(line_, value);
    }
    case Phase::ChunkSize: {
      if (overflow) return Result::Error;
      uint64_t size = 0;
      const char* p = line_;
      int digits = 0;
      for (; hex_value(*p) >= 0; ++p, ++digits) {
        if (digits >= 15) return Result::Error;
        size = size * 16 + uint64_t(hex_value(*p));
      }
      while (*p == ' ' || *p == '\t') ++p;
      if (digits == 0 || (*p != '\0' && *p != ';')) return Result::Error;
      remaining_ = size;
      phase_ = size == 0 ? Phase::Trailers : Phase::ChunkData;
      return Result::NeedMore;
    }
    case Phase::ChunkEnd:
      if (line_[0] != '\0' || overflow) return Result::Error;
      phase_ = Phase::ChunkSize;
      return Result::NeedMore;
    case Phase::Trailers:
      if (line_[0] == '\0' && !overflow) {
        phase_ = Phase::Done;
        return Result::Done;
      }
      return Result::NeedMore;
    default:
      return Result::Error;
  }
}

HttpResponseParser::Result HttpResponseParser::feed(const uint8_t* data, size_t len, size_t* consumed) {
  size_t i = 0;
  Result result = Result::NeedMore;
  if (len > 0) started_ = true;
  while (i < len && result == Result::NeedMore) {
    switch (phase_) {
      case Phase::Body:
      case Phase::ChunkData: {
        size_t take = len - i;
        if (take > remaining_) take = size_t(remaining_);
        store_body(data + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          if (phase_ == Phase::Body) {
            phase_ = Phase::Done;
            result = Result::Done;
          } else {
            phase_ = Phase::ChunkEnd;
          }
        }
        break;
      }
      case Phase::UntilClose:
        store_body(data + i, len - i);
        i = len;
        break;
      case Phase::Done:
        result = Result::Done;
        break;
      default:
        if (line_complete(data[i++])) result = on_line();
        break;
    }
  }
  if (consumed) *consumed = i;
  return result;
}

HttpResponseParser::Result HttpResponseParser::finish_at_eof() {
  if (phase_ == Phase::UntilClose || phase_ == Phase::Done) {
    phase_ = Phase::Done;
    return Result::Done;
  }
  return Result::Error;
}

// ---------------------------------------------------------------- connection

void HttpConnection::close() {
  if (open_ || net_.connected()) net_.close();
  open_ = false;
  host_[0] = '\0';
  port_ = 0;
}

bool HttpConnection::open_to(const char* host, uint16_t port) {
  if (open_ && port_ == port && strcmp(host_, host) == 0 && net_.connected()) return true;
  close();
  if (strlen(host) >= sizeof(host_)) return false;
  if (!net_.connect(host, port)) {
    net_.close();
    return false;
  }
  snprintf(host_, sizeof(host_), "%s", host);
  port_ = port;
  open_ = true;
  return true;
}

bool HttpConnection::keep_waiting(bool progressed) {
  if (!timing_.clock) {
    if (progressed) return true;
    io_error_ = HttpError::Timeout;
    return false;
  }
  uint64_t now = timing_.clock->monotonic_ms();
  if (progressed) last_progress_ms_ = now;
  if (timing_.listener) timing_.listener->on_io(now);
  if (now >= timing_.deadline_ms) {
    io_error_ = HttpError::OverBudget;
    return false;
  }
  if (now - last_progress_ms_ >= timing_.idle_timeout_ms) {
    io_error_ = HttpError::Timeout;
    return false;
  }
  return true;
}

bool HttpConnection::write_all(const uint8_t* data, size_t len) {
  while (len > 0) {
    int32_t n = net_.write(data, len);
    if (n == NetClient::kWouldBlock) {
      if (!keep_waiting(false)) return false;
      continue;
    }
    if (n <= 0) return false;
    data += n;
    len -= size_t(n);
    if (!keep_waiting(true)) return false;
  }
  return true;
}

bool HttpConnection::flush_out() {
  bool ok = write_all(reinterpret_cast<const uint8_t*>(out_), out_len_);
  out_len_ = 0;
  return ok;
}

bool HttpConnection::put(const char* text, size_t len) {
  while (len > 0) {
    if (out_len_ == sizeof(out_) && !flush_out()) return false;
    size_t take = sizeof(out_) - out_len_;
    if (take > len) take = len;
    memcpy(out_ + out_len_, text, take);
    out_len_ += take;
    text += take;
    len -= take;
  }
  return true;
}

bool HttpConnection::put(const char* text) { return put(text, strlen(text)); }

HttpError HttpConnection::send_request(const HttpRequest& req) {
  out_len_ = 0;
  char number[32];
  bool ok = put(req.method) && put(" ") && put(req.path) && put(" HTTP/1.1\r\nHost: ") && put(req.host);
  if (ok && req.port != 80 && req.port != 443) {
    snprintf(number, sizeof(number), ":%u", unsigned(req.port));
    ok = put(number);
  }
  ok = ok && put("\r\n");
  for (size_t i = 0; ok && i < req.header_count; ++i) {
    ok = put(req.headers[i].name) && put(": ") && put(req.headers[i].value) && put("\r\n");
  }
  uint64_t length = req.stream ? req.stream_len : req.body_len;
  snprintf(number, sizeof(number), "%llu", static_cast<unsigned long long>(length));
  ok = ok && put("Content-Length: ") && put(number) && put("\r\nConnection: keep-alive\r\n\r\n");
  if (ok && req.body && !req.stream) ok = put(req.body, req.body_len);
  if (!ok || !flush_out()) return io_error_ != HttpError::None ? io_error_ : HttpError::Send;
  if (!req.stream) return HttpError::None;

  if (!req.stream_buf || req.stream_chunk == 0) return HttpError::Source;
  size_t chunk = req.stream_chunk;
  uint64_t left = req.stream_len;
  while (left > 0) {
    size_t want = left < chunk ? size_t(left) : chunk;
    int32_t n = req.stream->read(req.stream_buf, want);
    if (n <= 0) return HttpError::Source;  // the promised length can no longer be met
    if (!write_all(req.stream_buf, size_t(n))) return io_error_ != HttpError::None ? io_error_ : HttpError::Send;
    left -= uint64_t(n);
  }
  return HttpError::None;
}

HttpError HttpConnection::read_response(HttpResponse& resp, bool* response_started) {
  parser_.begin(&resp);
  last_unsent_ = net_.unsent();
  for (;;) {
    int32_t n = net_.read(in_, sizeof(in_));
    if (n == NetClient::kWouldBlock) {
      // Still draining our own body from the send queue counts as progress: the idle
      // timeout starts when the last byte has left, not when write() returned.
      uint64_t unsent = net_.unsent();
      bool drained = unsent < last_unsent_;
      last_unsent_ = unsent;
      if (!keep_waiting(drained)) return io_error_;
      continue;
    }
    if (n < 0) return HttpError::Receive;
    if (n == 0) {
      if (parser_.finish_at_eof() == HttpResponseParser::Result::Done) {
        resp.keep_alive = false;
        return HttpError::None;
      }
      return parser_.started() ? HttpError::BadResponse : HttpError::Receive;
    }
    *response_started = true;
    size_t used = 0;
    HttpResponseParser::Result r = parser_.feed(in_, size_t(n), &used);
    if (r == HttpResponseParser::Result::Error) return HttpError::BadResponse;
    if (r == HttpResponseParser::Result::Done) {
      if (used < size_t(n)) resp.keep_alive = false;  // unexpected extra bytes: do not reuse
      return HttpError::None;
    }
    if (!keep_waiting(true)) return io_error_;
  }
}

HttpError HttpConnection::attempt(const HttpRequest& req, HttpResponse& resp, bool* response_started) {
  *response_started = false;
  io_error_ = HttpError::None;
  if (timing_.clock) {
    last_progress_ms_ = timing_.clock->monotonic_ms();
    if (last_progress_ms_ >= timing_.deadline_ms) return HttpError::OverBudget;
  }
  if (!open_to(req.host, req.port)) return HttpError::Connect;
  HttpError err = send_request(req);
  if (err == HttpError::None) err = read_response(resp, response_started);
  if (err != HttpError::None && err != HttpError::BadResponse && err != HttpError::Receive) {
    // Given up while bytes may still be queued: drop the connection rather than let it drain.
    net_.abort();
    open_ = false;
    host_[0] = '\0';
    port_ = 0;
  } else if (err != HttpError::None || !resp.keep_alive) {
    close();
  }
  return err;
}

HttpError HttpConnection::exchange(const HttpRequest& req, HttpResponse& resp) {
  resp.clear();
  bool reused = open_ && port_ == req.port && strcmp(host_, req.host) == 0 && net_.connected();
  bool started = false;
  HttpError err = attempt(req, resp, &started);
  // A kept-alive socket may have been closed by the server while idle; that is not a
  // network failure, so try once more on a fresh connection if nothing came back.
  if (err != HttpError::None && err != HttpError::Source && err != HttpError::Timeout &&
      err != HttpError::OverBudget && reused && !started && (!req.stream || req.stream->rewind())) {
    err = attempt(req, resp, &started);
  }
  return err;
}

}  // namespace lifelog
