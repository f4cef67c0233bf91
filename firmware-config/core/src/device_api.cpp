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
  // Error bodies look like {"error":{"code":"...","message":"..."}}; storage may answer in XML.
  JsonDoc doc(resp.body_truncated ? nullptr : cJSON_ParseWithLength(resp.body, resp.body_len));
  const cJSON* error = doc ? cJSON_GetObjectItemCaseSensitive(doc.get(), "error") : nullptr;
  const char* code = error ? json_string(error, "code") : nullptr;
  set_code(r, code ? code : "");
  r.retry_after = resp.retry_after;
  r.server_date_s = resp.date_s;
  if (resp.status == 401) {
    r.outcome = ApiOutcome::Unauthorized;
  } else if (resp.status == 429) {
    r.outcome = ApiOutcome::RateLimited;
  } else if (resp.status >= 500 || resp.status == 408) {
    r.outcome = ApiOutcome::ServerError;
  } else {
    r.outcome = ApiOutcome::Rejected;
  }
  return r;
}

ApiResult local_failure(const char* why) {
  ApiResult r;
  r.outcome = ApiOutcome::Rejected;
  set_code(r, why);
  return r;
}

ApiResult DeviceApi::post(const char* route, const char* token) {
  int n = snprintf(path_, sizeof(path_), "%s%s", endpoint_.prefix, route);
  if (n <= 0 || size_t(n) >= sizeof(path_)) return local_failure("path_too_long");
  HttpHeader headers[3] = {{"Content-Type", "application/json"}, {"Accept", "application/json"},
                           {"X-Device-Token", token}};
  HttpRequest req;
  req.method = "POST";
  req.host = endpoint_.host;
  req.port = endpoint_.port;
  req.path = path_;
  req.headers = headers;
  req.header_count = token ? 3 : 2;
  req.body = body_;
  req.body_len = strlen(body_);
  HttpError err = conn_.exchange(req, resp_);
  return classify_response(err, resp_);
}

static bool print_into(cJSON* o, char* out, size_t cap) {
  return o && cJSON_PrintPreallocated(o, out, int(cap), 0);
}

static ApiResult bad_answer(int status) {
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
    return bad_answer(resp_.status);
  }
  *out = a;
  return r;
}

ApiResult DeviceApi::request_upload_url(const char* token, const char* filename, const char* content_type,
                                        uint32_t seq, uint64_t size, UploadTarget* out, const char* sha256_hex) {
  {
    JsonDoc doc(cJSON_CreateObject());
    cJSON* o = doc.get();
    if (!o || !cJSON_AddStringToObject(o, "filename", filename) ||
        !cJSON_AddStringToObject(o, "content_type", content_type) || !cJSON_AddNumberToObject(o, "seq", seq) ||
        (size > 0 && !cJSON_AddNumberToObject(o, "size", double(size))) ||
        (sha256_hex && *sha256_hex && !cJSON_AddStringToObject(o, "sha256", sha256_hex)) ||
        !print_into(o, body_, sizeof(body_))) {
      return local_failure("request_too_large");
    }
  }
  ApiResult r = post("/devices/upload-url", token);
  if (!r.ok()) return r;
  JsonDoc doc(cJSON_ParseWithLength(resp_.body, resp_.body_len));
  const cJSON* o = doc.get();
  if (!cJSON_IsObject(o) || !copy_bounded(out->object_key, sizeof(out->object_key), json_string(o, "object_key"))) {
    return bad_answer(resp_.status);
  }
  double port = 0;
  const char* host = json_string(o, "upload_host");
  const char* path = json_string(o, "upload_path");
  if (host && path && json_number(o, "upload_port", &port) && port >= 1 && port <= 65535) {
    if (!copy_bounded(out->host, sizeof(out->host), host) || !copy_bounded(out->path, sizeof(out->path), path)) {
      return bad_answer(resp_.status);
    }
    out->port = uint16_t(port);
  } else {
    const char* url = json_string(o, "upload_url");
    bool tls = false;
    if (!url || !split_url(url, out->host, sizeof(out->host), &out->port, out->path, sizeof(out->path), &tls)) {
      return bad_answer(resp_.status);
    }
  }
  out->header_count = 0;
  const cJSON* headers = cJSON_GetObjectItemCaseSensitive(o, "upload_headers");
  const cJSON* h = nullptr;
  cJSON_ArrayForEach(h, headers) {
    if (!cJSON_IsString(h) || !h->string) continue;
    if (out->header_count == kMaxUploadHeaders) return bad_answer(resp_.status);
    size_t i = out->header_count;
    if (!copy_bounded(out->header_names[i], sizeof(out->header_names[i]), h->string) ||
        !copy_bounded(out->header_values[i], sizeof(out->header_values[i]), h->valuestring)) {
      return bad_answer(resp_.status);
    }
    ++out->header_count;
  }
  return r;
}

ApiResult DeviceApi::ingest(const char* token, const IngestRequest& req, IngestReply* out) {
  {
    JsonDoc doc(cJSON_CreateObject());
    cJSON* o = doc.get();
    cJSON* meta = cJSON_CreateObject();
    if (!o || !meta || !cJSON_AddItemToObject(o, "metadata", meta)) {
      cJSON_Delete(meta);
      return local_failure("out_of_memory");
    }
    bool ok = cJSON_AddStringToObject(o, "object_key", req.object_key) &&
              cJSON_AddStringToObject(o, "captured_at", req.captured_at) &&
              cJSON_AddNumberToObject(o, "seq", req.seq) &&
              cJSON_AddStringToObject(o, "content_type", req.content_type) &&
              cJSON_AddBoolToObject(o, "ntp_synced", req.ntp_synced) &&
              cJSON_AddNumberToObject(meta, "frame", req.frame) &&
              cJSON_AddStringToObject(meta, "sha256", req.sha256 ? req.sha256 : "") &&
              cJSON_AddNumberToObject(meta, "size", double(req.size)) &&
              cJSON_AddNumberToObject(meta, "boot_id", req.boot_id);
    if (ok && req.time_corrected) ok = cJSON_AddBoolToObject(meta, "time_corrected", true);
    // On every photo: a synced one tells the server when its boot began, which dates the
    // same boot's photos that went out before the clock was set (source_items trigger).
    if (ok) ok = cJSON_AddNumberToObject(meta, "uptime_ms", double(req.uptime_ms));
    if (!ok || !print_into(o, body_, sizeof(body_))) return local_failure("request_too_large");
  }
  ApiResult r = post("/devices/ingest", token);
  if (!r.ok()) return r;
  JsonDoc doc(cJSON_ParseWithLength(resp_.body, resp_.body_len));
  const char* status = doc ? json_string(doc.get(), "status") : nullptr;
  if (!status || (strcmp(status, "queued") != 0 && strcmp(status, "duplicate") != 0)) {
    return bad_answer(resp_.status);
  }
  IngestReply reply;
  reply.duplicate = strcmp(status, "duplicate") == 0;
  copy_bounded(reply.item_id, sizeof(reply.item_id), json_string(doc.get(), "item_id"));
  *out = reply;
  return r;
}

}  // namespace lifelog
