#include "support/rig.h"

#include <cstdlib>
#include <cstring>

#include "lifelog/json.h"

#include "lifelog/atomic_file.h"

std::string photo_at(uint32_t seq) {
  char p[lifelog::kMaxPathLen];
  lifelog::photo_path(seq, p, sizeof(p));
  return p;
}
std::string record_at(uint32_t seq) {
  char p[lifelog::kMaxPathLen];
  lifelog::manifest_path(seq, p, sizeof(p));
  return p;
}
std::string failed_at(uint32_t seq) {
  char p[lifelog::kMaxPathLen];
  lifelog::failed_path(seq, p, sizeof(p));
  return p;
}
std::string tmp_at(const std::string& path) {
  char p[lifelog::kMaxPathLen];
  lifelog::tmp_path_for(path.c_str(), p, sizeof(p));
  return p;
}
void add_bucket_dirs(MemFs& fs, const char* root, uint32_t seq) {
  std::string b = bucket_dir(root, seq);
  fs.dirs.insert(root);
  fs.dirs.insert(b.substr(0, b.rfind('/')));
  fs.dirs.insert(b);
}
std::string bucket_dir(const char* root, uint32_t seq) {
  char p[lifelog::kMaxPathLen];
  lifelog::bucket_path(root, seq >> lifelog::kBucketShift, p, sizeof(p));
  return p;
}

bool PatternCamera::capture(uint32_t frame, lifelog::FrameSink& sink) {
  if (fail) return false;
  uint8_t piece[1000];
  uint64_t left = size;
  uint32_t x = frame * 2654435761u + 1;
  while (left > 0) {
    size_t n = left < sizeof(piece) ? size_t(left) : sizeof(piece);
    for (size_t i = 0; i < n; ++i) {
      x = x * 1103515245u + 12345u;
      piece[i] = uint8_t(x >> 16);
    }
    if (!sink.write(piece, n)) return false;
    left -= n;
  }
  return true;
}

FakeBackend::FakeBackend() {
  api.handler = [this](const FakeRequest& r) { return on_api(r); };
  storage.handler = [this](const FakeRequest& r) { return on_storage(r); };
}

bool FakeBackend::take_override(const std::string& route, FakeReply* out) {
  if (overrides.empty() || overrides.front().first != route) return false;
  *out = overrides.front().second;
  overrides.pop_front();
  return true;
}

// "ab01..." (SHA-256 hex) -> base64, as x-amz-checksum-sha256 carries it.
static std::string hex_to_base64(const std::string& hex) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes += char(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    if (i + 2 < bytes.size()) n |= uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[n & 63] : '=';
  }
  return out;
}

static std::string error_json(const char* code) {
  return std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"test\"}}";
}

FakeReply FakeBackend::on_api(const FakeRequest& r) {
  if (r.method == "PUT") return on_storage(r);  // a target on the API's host
  const std::string prefix = "/functions/v1/devices/";
  std::string route = r.path.compare(0, prefix.size(), prefix) == 0 ? r.path.substr(prefix.size()) : r.path;
  FakeReply reply;
  reply.close_after = close_every_reply;
  if (take_override(route, &reply)) return reply;
  if (route == "upload-urls") return on_batch("upload-url", r);
  if (route == "ingest-batch") return on_batch("ingest", r);
  return on_route(route, r);
}

// {"items":[...]} -> {"results":[{"status","body"}...]}, each item through the single route.
FakeReply FakeBackend::on_batch(const std::string& item_route, const FakeRequest& r) {
  FakeReply reply;
  reply.close_after = close_every_reply;
  auto tok = r.headers.find("x-device-token");
  if (tok == r.headers.end() || tok->second != token) {  // the call's token, before any item
    reply.raw = http_reply(401, error_json("invalid_token"));
    return reply;
  }
  lifelog::JsonDoc body(cJSON_Parse(r.body.c_str()));
  const cJSON* items = cJSON_GetObjectItemCaseSensitive(body.get(), "items");
  int n = cJSON_GetArraySize(items);
  if (!cJSON_IsArray(items) || n < 1 || n > int(lifelog::kMaxBatchItems)) {
    reply.raw = http_reply(400, error_json("invalid_request"));
    return reply;
  }
  ++batch_calls;
  std::string results;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, items) {
    ++batch_items;
    char* text = cJSON_PrintUnformatted(item);
    FakeRequest one = r;
    one.body = text;
    cJSON_free(text);
    FakeReply answer;
    // An override with no bytes lets its item through (to reach a later item's override).
    if (!take_override(item_route, &answer) || answer.raw.empty()) answer = on_route(item_route, one);
    // "HTTP/1.1 <status> ...\r\n...\r\n\r\n<body>"
    int status = std::atoi(answer.raw.c_str() + answer.raw.find(' ') + 1);
    std::string item_body = answer.raw.substr(answer.raw.find("\r\n\r\n") + 4);
    if (item_body.empty()) item_body = "null";
    // An item's Retry-After travels as its retry_after, as functions/devices/batch.ts gives it.
    std::string head = answer.raw.substr(0, answer.raw.find("\r\n\r\n"));
    size_t ra = head.find("\r\nRetry-After: ");
    std::string retry_after = ra == std::string::npos ? "" : ",\"retry_after\":" + std::to_string(std::atol(head.c_str() + ra + 15));
    if (!results.empty()) results += ",";
    results += "{\"status\":" + std::to_string(status) + ",\"body\":" + item_body + retry_after + "}";
  }
  reply.raw = http_reply(200, "{\"results\":[" + results + "]}");
  return reply;
}

FakeReply FakeBackend::on_route(const std::string& route, const FakeRequest& r) {
  FakeReply reply;
  reply.close_after = close_every_reply;
  if (route == "activate") {
    reply.raw = http_reply(200, "{\"device_id\":\"dev-1\",\"device_token\":\"" + token + "\"}");
    return reply;
  }
  auto tok = r.headers.find("x-device-token");
  if (tok == r.headers.end() || tok->second != token) {
    reply.raw = http_reply(401, error_json("invalid_token"));
    return reply;
  }
  lifelog::JsonDoc body(cJSON_Parse(r.body.c_str()));
  double seqd = -1;
  lifelog::json_number(body.get(), "seq", &seqd);
  uint32_t seq = uint32_t(seqd);
  if (route == "upload-url") {
    const char* filename = lifelog::json_string(body.get(), "filename");
    if (!keys.count(seq)) keys[seq] = "devices/dev-1/" + std::to_string(seq) + "-" + (filename ? filename : "x");
    const std::string& key = keys[seq];
    std::string port = std::to_string(storage_port);
    // Shaped as the s3 driver's answer (functions/_shared/storage/s3.ts): a presigned URL whose
    // query is as long as SigV4's, given whole and split, and the headers it signs.
    char signature[65];
    snprintf(signature, sizeof(signature), "%064zx", signatures_.size() + 1);
    const char* sha_hex = lifelog::json_string(body.get(), "sha256");
    std::string sha_b64 = sha_hex ? hex_to_base64(sha_hex) : "";
    signatures_[signature] = Signed{server_now ? server_now() : 0, sha_b64};
    std::string path = "/bucket/" + key +
                       "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=lifelog-local%2F20251226%2Fus-east-1%2Fs3%2F"
                       "aws4_request&X-Amz-Date=20251226T101530Z&X-Amz-Expires=" + std::to_string(url_ttl_s) +
                       "&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost%3Bif-none-match%3Bx-amz-checksum-sha256"
                       "&X-Amz-Signature=" + signature;
    std::string headers = "{\"Content-Type\":\"image/jpeg\",\"If-None-Match\":\"*\"" +
                          (sha_b64.empty() ? std::string() : ",\"x-amz-checksum-sha256\":\"" + sha_b64 + "\"") + "}";
    reply.raw = http_reply(200, "{\"object_key\":\"" + key + "\",\"upload_url\":\"http://" + storage_host + ":" +
                                    port + path + "\",\"upload_method\":\"PUT\",\"upload_host\":\"" + storage_host +
                                    "\",\"upload_port\":" + port + ",\"upload_path\":\"" + path +
                                    "\",\"upload_headers\":" + headers +
                                    ",\"expires_at\":\"2025-12-26T10:20:30.000Z\",\"max_bytes\":10485760}");
    return reply;
  }
  if (route == "ingest") {
    ingest_bodies.push_back(r.body);
    const char* key = lifelog::json_string(body.get(), "object_key");
    std::string k = key ? key : "";
    if (!objects.count(k)) {
      reply.raw = http_reply(409, error_json("object_missing"));
    } else if (ingested.count(seq) && ingested[seq] != k) {
      reply.raw = http_reply(409, error_json("seq_conflict"));
    } else if (ingested.count(seq)) {
      reply.raw = http_reply(200, "{\"status\":\"duplicate\",\"item_id\":\"item-" + std::to_string(seq) + "\"}");
    } else {
      ingested[seq] = k;
      reply.raw = http_reply(201, "{\"status\":\"queued\",\"item_id\":\"item-" + std::to_string(seq) +
                                      "\",\"task_id\":\"task\"}");
    }
    return reply;
  }
  reply.raw = http_reply(404, error_json("not_found"));
  return reply;
}

FakeReply FakeBackend::on_storage(const FakeRequest& r) {
  FakeReply reply;
  reply.close_after = close_every_reply;
  if (take_override("PUT", &reply)) return reply;
  if (r.method != "PUT" || r.headers.count("content-type") == 0 || r.headers.at("content-type") != "image/jpeg") {
    reply.raw = "HTTP/1.1 400 Bad\r\nContent-Length: 0\r\n\r\n";
    return reply;
  }
  std::string key = r.path.substr(std::string("/bucket/").size());
  size_t query = key.find('?');
  size_t sig_at = r.path.find("X-Amz-Signature=");
  auto sig = sig_at == std::string::npos ? signatures_.end() : signatures_.find(r.path.substr(sig_at + 16));
  key = key.substr(0, query);
  // What S3 checks of a presigned PUT (S3 API reference: PutObject, presigned URLs): a known signature
  // (403 SignatureDoesNotMatch), its life (403 AccessDenied "Request has expired"), the signed
  // checksum (400 BadDigest) and If-None-Match: * against an existing key (412).
  if (sig == signatures_.end()) {
    reply.raw = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n";
    return reply;
  }
  if (server_now && server_now() > sig->second.at + url_ttl_s) {
    std::string xml = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
    reply.raw = "HTTP/1.1 403 Forbidden\r\nContent-Length: " + std::to_string(xml.size()) + "\r\n\r\n" + xml;
    return reply;
  }
  if (!sig->second.sha256_b64.empty() && hex_to_base64(r.body_sha256) != sig->second.sha256_b64) {
    reply.raw = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    return reply;
  }
  if (objects.count(key) && r.headers.count("if-none-match")) {
    reply.raw = "HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n";
    return reply;
  }
  objects[key] = r.body_sha256;
  object_sizes[key] = r.content_length;
  reply.raw = "HTTP/1.1 200 OK\r\nETag: \"x\"\r\nContent-Length: 0\r\n\r\n";
  return reply;
}

Rig::Rig(uint64_t capacity, uint64_t min_free) {
  fs.capacity = capacity;
  qcfg.min_free_bytes = min_free;
  queue.reset(new lifelog::CaptureQueue(fs, kv, seqs, qcfg));
  seqs.begin();
  queue->begin();
  lifelog::parse_base_url("http://api.test:54321/functions/v1", &endpoint);
  backend.server_now = [this] { return clock.wall; };
  ucfg.device_token = device_token.c_str();
  ucfg.backoff.base_ms = 1000;
  ucfg.backoff.cap_ms = 60000;
  ucfg.boot_id = 1;
  ucfg.batch = batch_buffers.view();
  make_uploader();
}

void Rig::make_uploader() {
  uploader.reset(new lifelog::Uploader(*queue, api_conn, storage_conn, clock, rng, endpoint, ucfg, &events));
}

bool Rig::capture(lifelog::ManifestRecord* out) {
  lifelog::ClockReading now = lifelog::read_clock(clock, ucfg.boot_id);
  lifelog::CaptureStatus st = queue->capture(camera, frame, lifelog::stamp_now(now), out);
  if (st == lifelog::CaptureStatus::Ok) ++frame;
  return st == lifelog::CaptureStatus::Ok;
}

lifelog::StepResult Rig::drain(int max_steps) {
  lifelog::StepResult last = lifelog::StepResult::Idle;
  for (int i = 0; i < max_steps; ++i) {
    last = uploader->step();
    if (last == lifelog::StepResult::Idle || last == lifelog::StepResult::TokenDead ||
        last == lifelog::StepResult::StorageError) {
      return last;
    }
    if (last == lifelog::StepResult::Waiting) clock.mono = uploader->ready_at_ms();
  }
  return last;
}
