#include "lifelog/device_api.h"

#include <cstdio>
#include <cstring>

#include "lifelog/json.h"

namespace lifelog {
namespace {

void set_code(ApiResult& r, const char* code) { snprintf(r.code, sizeof(r.code), "%s", code); }

// Splits "http://host:port/path?q" (used when the server omits the split fields).
bool split_url(const char* url, char* host, size_t host_cap, uint16_t* port, char* path, size_t path_cap,
               bool* tls) {
  const char* p;
  if (strncmp(url, "http://", 7) == 0) {
    p = url + 7;
    *tls = false;
    *port = 80;
  } else if (strncmp(url, "https://", 8) == 0) {
    p = url + 8;
    *tls = true;
    *port = 443;
  } else {
    return false;
  }
  const char* host_end = p;
  while (*host_end && *host_end != ':' && *host_end != '/' && *host_end != '?') ++host_end;
  size_t host_len = size_t(host_end - p);
  if (host_len == 0 || host_len >= host_cap) return false;
  memcpy(host, p, host_len);
  host[host_len] = '\0';
  const char* rest = host_end;
  if (*rest == ':') {
    unsigned long v = 0;
    ++rest;
    if (*rest < '0' || *rest > '9') return false;
    while (*rest >= '0' && *rest <= '9') {
      v = v * 10 + unsigned(*rest - '0');
      if (v > 65535) return false;
      ++rest;
    }
    if (v == 0) return false;
    *port = uint16_t(v);
  }
  if (*rest && *rest != '/' && *rest != '?') return false;
  int n = snprintf(path, path_cap, "%s%s", *rest == '?' ? "/" : "", rest);
  return n >= 0 && size_t(n) < path_cap;
}

}  // namespace

bool parse_base_url(const char* url, ApiEndpoint* out) {
  ApiEndpoint e;
  if (!split_url(url, e.host, sizeof(e.host), &e.port, e.prefix, sizeof(e.prefix), &e.tls)) return false;
  size_t n = strlen(e.prefix);
  while (n > 0 && e.prefix[n - 1] == '/') e.prefix[--n] = '\0';  // "/functions/v1/" -> "/functions/v1"
  if (strchr(e.prefix, '?')) return false;
  *out = e;
  return true;
}

// An answer's status and error body, as the device acts on it (shared by whole answers and
// the items of a batch answer).
static ApiResult classify_status(int status, const cJSON* body) {
  ApiResult r;
  r.status = status;
  if (status >= 200 && status < 300) return r;
  // Error bodies look like {"error":{"code":"...","message":"..."}}; storage may answer in XML.
  const cJSON* error = cJSON_GetObjectItemCaseSensitive(body, "error");
  const char* code = error ? json_string(error, "code") : nullptr;
  set_code(r, code ? code : "");
  if (status == 401) {
    r.outcome = ApiOutcome::Unauthorized;
  } else if (status == 429) {
    r.outcome = ApiOutcome::RateLimited;
  } else if (status >= 500 || status == 408) {
    r.outcome = ApiOutcome::ServerError;
  } else {
    r.outcome = ApiOutcome::Rejected;
  }
  return r;
}

ApiResult classify_response(HttpError err, const HttpResponse& resp) {
  ApiResult r;
  r.status = resp.status;
  if (err == HttpError::BadResponse) {
    r.outcome = ApiOutcome::ServerError;
    set_code(r, "bad_response");
    return r;
  }
  if (err != HttpError::None) {
    r.outcome = ApiOutcome::Network;
    set_code(r, http_error_name(err));
    return r;
  }
  if (resp.status >= 200 && resp.status < 300) return r;
  JsonDoc doc(resp.body_truncated ? nullptr : cJSON_ParseWithLength(resp.body, resp.body_len));
  r = classify_status(resp.status, doc.get());
  r.retry_after = resp.retry_after;
  r.server_date_s = resp.date_s;
  return r;
}

ApiResult local_failure(const char* why) {
  ApiResult r;
  r.outcome = ApiOutcome::Rejected;
  set_code(r, why);
  return r;
}

ApiResult post_json(HttpConnection& conn, const ApiEndpoint& endpoint, const char* route, const char* token,
                    const char* body, HttpResponse& resp) {
  char path[192];
  int n = snprintf(path, sizeof(path), "%s%s", endpoint.prefix, route);
  if (n <= 0 || size_t(n) >= sizeof(path)) return local_failure("path_too_long");
  HttpHeader headers[5] = {{"Content-Type", "application/json"}, {"Accept", "application/json"}};
  size_t header_count = 2;
  char boot[12];
  char uptime[24];
  if (token) {
    headers[header_count++] = {"X-Device-Token", token};
    if (endpoint.boot_id != 0 && endpoint.clock) {
      snprintf(boot, sizeof(boot), "%lu", static_cast<unsigned long>(endpoint.boot_id));
      snprintf(uptime, sizeof(uptime), "%llu", static_cast<unsigned long long>(endpoint.clock->monotonic_ms()));
      headers[header_count++] = {"X-Device-Boot", boot};
      headers[header_count++] = {"X-Device-Uptime-Ms", uptime};
    }
  }
  HttpRequest req;
  req.method = "POST";
  req.host = endpoint.host;
  req.port = endpoint.port;
  req.path = path;
  req.headers = headers;
  req.header_count = header_count;
  req.body = body;
  req.body_len = strlen(body);
  HttpError err = conn.exchange(req, resp);
  return classify_response(err, resp);
}

ApiResult DeviceApi::post(const char* route, const char* token) {
  return post_json(conn_, endpoint_, route, token, body_, resp_);
}

static bool print_into(cJSON* o, char* out, size_t cap) {
  return o && cJSON_PrintPreallocated(o, out, int(cap), 0);
}

ApiResult unexpected_answer(int status) {
  ApiResult r;
  r.outcome = ApiOutcome::ServerError;
  r.status = status;
  set_code(r, "unexpected_answer");
  return r;
}

ApiResult DeviceApi::activate(const char* pairing_code, const char* activation_key, Activation* out) {
  {
    JsonDoc doc(cJSON_CreateObject());
    if (!doc || !cJSON_AddStringToObject(doc.get(), "pairing_code", pairing_code) ||
        (activation_key && !cJSON_AddStringToObject(doc.get(), "activation_key", activation_key)) ||
        !print_into(doc.get(), body_, sizeof(body_))) {
      return local_failure("request_too_large");
    }
  }
  ApiResult r = post("/devices/activate", nullptr);
  if (!r.ok()) return r;
  JsonDoc doc(cJSON_ParseWithLength(resp_.body, resp_.body_len));
  Activation a;
  if (!doc || !copy_bounded(a.device_id, sizeof(a.device_id), json_string(doc.get(), "device_id")) ||
      !copy_bounded(a.device_token, sizeof(a.device_token), json_string(doc.get(), "device_token"))) {
    return unexpected_answer(resp_.status);
  }
  *out = a;
  return r;
}

// One single-route call: the request built by `add`, its 2xx answer read by `parse`.
template <typename Request, typename Answer>
ApiResult DeviceApi::call(const char* route, const char* token, bool (*add)(cJSON*, const Request&),
                          const Request& request, bool (*parse)(const cJSON*, Answer*), Answer* out) {
  {
    JsonDoc doc(cJSON_CreateObject());
    if (!add(doc.get(), request) || !print_into(doc.get(), body_, sizeof(body_))) return local_failure("request_too_large");
  }
  ApiResult r = post(route, token);
  if (!r.ok()) return r;
  JsonDoc doc(cJSON_ParseWithLength(resp_.body, resp_.body_len));
  if (!parse(doc.get(), out)) return unexpected_answer(resp_.status);
  return r;
}

static bool add_upload_ask(cJSON* o, const UploadAsk& ask) {
  return o && cJSON_AddStringToObject(o, "filename", ask.filename) &&
         cJSON_AddStringToObject(o, "content_type", ask.content_type) && cJSON_AddNumberToObject(o, "seq", ask.seq) &&
         (ask.size == 0 || cJSON_AddNumberToObject(o, "size", double(ask.size))) &&
         (!ask.sha256 || !*ask.sha256 || cJSON_AddStringToObject(o, "sha256", ask.sha256));
}

// An upload-url answer's body -> where and how to PUT.
static bool parse_upload_target(const cJSON* o, UploadTarget* out) {
  if (!cJSON_IsObject(o) || !copy_bounded(out->object_key, sizeof(out->object_key), json_string(o, "object_key"))) {
    return false;
  }
  double port = 0;
  const char* host = json_string(o, "upload_host");
  const char* path = json_string(o, "upload_path");
  if (host && path && json_number(o, "upload_port", &port) && port >= 1 && port <= 65535) {
    if (!copy_bounded(out->host, sizeof(out->host), host) || !copy_bounded(out->path, sizeof(out->path), path)) {
      return false;
    }
    out->port = uint16_t(port);
  } else {
    const char* url = json_string(o, "upload_url");
    bool tls = false;
    if (!url || !split_url(url, out->host, sizeof(out->host), &out->port, out->path, sizeof(out->path), &tls)) {
      return false;
    }
  }
  out->header_count = 0;
  const cJSON* headers = cJSON_GetObjectItemCaseSensitive(o, "upload_headers");
  const cJSON* h = nullptr;
  cJSON_ArrayForEach(h, headers) {
    if (!cJSON_IsString(h) || !h->string) continue;
    if (out->header_count == kMaxUploadHeaders) return false;
    size_t i = out->header_count;
    if (!copy_bounded(out->header_names[i], sizeof(out->header_names[i]), h->string) ||
        !copy_bounded(out->header_values[i], sizeof(out->header_values[i]), h->valuestring)) {
      return false;
    }
    ++out->header_count;
  }
  return true;
}

ApiResult DeviceApi::request_upload_url(const char* token, const char* filename, const char* content_type,
                                        uint32_t seq, uint64_t size, UploadTarget* out, const char* sha256_hex) {
  UploadAsk ask;
  ask.filename = filename;
  ask.content_type = content_type;
  ask.seq = seq;
  ask.size = size;
  ask.sha256 = sha256_hex;
  return call("/devices/upload-url", token, add_upload_ask, ask, parse_upload_target, out);
}

static bool add_ingest_fields(cJSON* o, const IngestRequest& req) {
  cJSON* meta = cJSON_CreateObject();
  if (!o || !meta || !cJSON_AddItemToObject(o, "metadata", meta)) {
    cJSON_Delete(meta);
    return false;
  }
  bool ok = cJSON_AddStringToObject(o, "object_key", req.object_key) &&
            cJSON_AddStringToObject(o, "captured_at", req.captured_at) && cJSON_AddNumberToObject(o, "seq", req.seq) &&
            cJSON_AddStringToObject(o, "content_type", req.content_type) &&
            cJSON_AddBoolToObject(o, "ntp_synced", req.ntp_synced) && cJSON_AddNumberToObject(meta, "frame", req.frame) &&
            cJSON_AddStringToObject(meta, "sha256", req.sha256 ? req.sha256 : "") &&
            cJSON_AddNumberToObject(meta, "size", double(req.size)) &&
            cJSON_AddNumberToObject(meta, "boot_id", req.boot_id);
  if (ok && req.time_corrected) ok = cJSON_AddBoolToObject(meta, "time_corrected", true);
  // On every photo: a synced one tells the server when its boot began, which dates the
  // same boot's photos that went out before the clock was set (source_items trigger).
  return ok && cJSON_AddNumberToObject(meta, "uptime_ms", double(req.uptime_ms));
}

// An ingest answer's body: queued or duplicate, with the item's id.
static bool parse_ingest_reply(const cJSON* o, IngestReply* out) {
  const char* status = json_string(o, "status");
  if (!status || (strcmp(status, "queued") != 0 && strcmp(status, "duplicate") != 0)) return false;
  IngestReply reply;
  reply.duplicate = strcmp(status, "duplicate") == 0;
  copy_bounded(reply.item_id, sizeof(reply.item_id), json_string(o, "item_id"));
  *out = reply;
  return true;
}

ApiResult DeviceApi::ingest(const char* token, const IngestRequest& req, IngestReply* out) {
  return call("/devices/ingest", token, add_ingest_fields, req, parse_ingest_reply, out);
}

// ---- batches -------------------------------------------------------------------------------

void DeviceApi::use_batch_buffers(const BatchBuffers& buffers) {
  batch_ = buffers;
  if (batch_.usable()) batch_resp_.use_buffer(batch_.answer, batch_.answer_cap);
}

size_t DeviceApi::target_batch_limit() const {
  if (!batch_.usable()) return 1;
  size_t n = batch_.answer_cap / kBatchTargetAnswerBytes;
  return n < kMaxBatchItems ? n : kMaxBatchItems;
}

namespace {

// Builds {"items":[...]} in the request buffer, one item at a time through `scratch`, and
// stops at the first item that does not fit.
class BatchBody {
 public:
  BatchBody(const BatchBuffers& b, char* scratch, size_t scratch_cap)
      : out_(b.request), cap_(b.request_cap), scratch_(scratch), scratch_cap_(scratch_cap) {
    len_ = size_t(snprintf(out_, cap_, "{\"items\":["));
  }
  // False when the item could not be printed or does not fit (with room left for "]}").
  bool add(cJSON* item) {
    if (!print_into(item, scratch_, scratch_cap_)) return false;
    size_t n = strlen(scratch_);
    size_t comma = count_ > 0 ? 1 : 0;
    if (len_ + comma + n + 3 > cap_) return false;
    if (comma) out_[len_++] = ',';
    memcpy(out_ + len_, scratch_, n);
    len_ += n;
    ++count_;
    return true;
  }
  const char* finish() {
    memcpy(out_ + len_, "]}", 3);
    return out_;
  }
  size_t count() const { return count_; }

 private:
  char* out_;
  size_t cap_;
  char* scratch_;
  size_t scratch_cap_;
  size_t len_ = 0;
  size_t count_ = 0;
};

}  // namespace

// One batch call: {"items":[...]} built by `add` for as many requests as fit (at most
// `limit`), then the answer's results located.
template <typename Request>
ApiResult DeviceApi::call_batch(const char* route, const char* token, bool (*add)(cJSON*, const Request&),
                                const Request* requests, size_t n, size_t limit, BatchAnswer* out) {
  if (!batch_.usable()) return local_failure("no_batch_buffers");
  BatchBody body(batch_, body_, sizeof(body_));
  for (size_t i = 0; i < n && i < limit; ++i) {
    JsonDoc item(cJSON_CreateObject());
    if (!add(item.get(), requests[i]) || !body.add(item.get())) break;
  }
  out->sent = body.count();
  if (out->sent == 0) return local_failure("request_too_large");
  ApiResult r = post_json(conn_, endpoint_, route, token, body.finish(), batch_resp_);
  if (!r.ok()) return r;
  int found = batch_resp_.body_truncated ? -1
                                         : json_array_spans(batch_resp_.body, batch_resp_.body_len, "results",
                                                            out->results, kMaxBatchItems);
  if (found < 0 || size_t(found) != out->sent) return unexpected_answer(batch_resp_.status);
  return r;
}

ApiResult DeviceApi::request_upload_urls(const char* token, const UploadAsk* asks, size_t n, BatchAnswer* out) {
  return call_batch("/devices/upload-urls", token, add_upload_ask, asks, n, target_batch_limit(), out);
}

ApiResult DeviceApi::ingest_batch(const char* token, const IngestRequest* reqs, size_t n, BatchAnswer* out) {
  return call_batch("/devices/ingest-batch", token, add_ingest_fields, reqs, n, kMaxBatchItems, out);
}

ApiResult DeviceApi::item_result(const BatchAnswer& answer, size_t i, UploadTarget* target, IngestReply* reply) const {
  if (i >= answer.sent) return unexpected_answer(0);
  const JsonSpan& span = answer.results[i];
  JsonDoc doc(cJSON_ParseWithLength(batch_resp_.body + span.at, span.len));
  double status = 0;
  if (!doc || !json_number(doc.get(), "status", &status) || status < 100 || status > 599) {
    return unexpected_answer(batch_resp_.status);
  }
  const cJSON* body = cJSON_GetObjectItemCaseSensitive(doc.get(), "body");
  ApiResult r = classify_status(int(status), body);
  // An item's Retry-After comes as seconds in the result (the call itself answered 200).
  double wait_s = -1;
  if (r.outcome == ApiOutcome::RateLimited && json_number(doc.get(), "retry_after", &wait_s) && wait_s >= 0) {
    r.retry_after.delay_s = int64_t(wait_s);
  }
  if (!r.ok()) return r;
  if (target && !parse_upload_target(body, target)) return unexpected_answer(r.status);
  if (reply && !parse_ingest_reply(body, reply)) return unexpected_answer(r.status);
  return r;
}

}  // namespace lifelog
