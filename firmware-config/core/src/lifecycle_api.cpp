#include "lifelog/lifecycle_api.h"

#include <cstdio>
#include <cstring>

#include "lifelog/json.h"

namespace lifelog {

void printable_error_text(const char* in, char* out, size_t cap) {
  if (cap == 0) return;
  size_t limit = cap - 1 < kMaxLastError ? cap - 1 : kMaxLastError;
  size_t n = 0;
  for (; in && in[n] && n < limit; ++n) {
    unsigned char c = static_cast<unsigned char>(in[n]);
    out[n] = (c >= 0x20 && c < 0x7f) ? char(c) : '?';
  }
  out[n] = '\0';
}

ApiResult LifecycleApi::post(const char* route, const char* token) {
  return post_json(conn_, endpoint_, route, token, body_, resp_);
}

ApiResult LifecycleApi::heartbeat(const char* token, const StatusReport& s, HeartbeatReply* out) {
  {
    char error[kMaxLastError + 1];
    printable_error_text(s.last_error, error, sizeof(error));
    JsonDoc doc(cJSON_CreateObject());
    cJSON* o = doc.get();
    bool ok = o && cJSON_AddStringToObject(o, "firmware_version", s.firmware_version) &&
              cJSON_AddNumberToObject(o, "free_bytes", double(s.free_bytes)) &&
              cJSON_AddNumberToObject(o, "queue_depth", s.queue_depth) &&
              cJSON_AddNumberToObject(o, "dropped", double(s.dropped)) &&
              cJSON_AddNumberToObject(o, "quarantined", s.quarantined) &&
              (error[0] ? cJSON_AddStringToObject(o, "last_error", error) != nullptr
                        : cJSON_AddNullToObject(o, "last_error") != nullptr) &&
              cJSON_AddNumberToObject(o, "uptime_s", double(s.uptime_s)) &&
              (s.has_rssi ? cJSON_AddNumberToObject(o, "rssi_dbm", s.rssi_dbm) != nullptr
                          : cJSON_AddNullToObject(o, "rssi_dbm") != nullptr) &&
              cJSON_AddBoolToObject(o, "clock_synced", s.clock_synced) && (!s.ota || add_ota_report(o, *s.ota));
    if (!ok || !cJSON_PrintPreallocated(o, body_, int(sizeof(body_)), 0)) return local_failure("request_too_large");
  }
  ApiResult r = post("/devices/heartbeat", token);
  if (!r.ok()) return r;
  JsonDoc doc(resp_.body_truncated ? nullptr : cJSON_ParseWithLength(resp_.body, resp_.body_len));
  const cJSON* settings = doc ? cJSON_GetObjectItemCaseSensitive(doc.get(), "settings") : nullptr;
  // Filled in place: with an offer it is 1.5 KB, too much for a second copy on the loop's stack.
  HeartbeatReply& reply = *out;
  reply = HeartbeatReply();
  double next = 0, interval = 0;
  if (!cJSON_IsObject(settings) || !json_bool(settings, "paused", &reply.paused) ||
      !json_number(doc.get(), "next_heartbeat_s", &next) || next < 1 || next > 86400) {
    return unexpected_answer(resp_.status);
  }
  reply.next_heartbeat_s = uint32_t(next);
  // null or missing: the camera's own interval
  if (json_number(settings, "capture_interval_s", &interval)) {
    if (interval < 1 || interval > 86400) return unexpected_answer(resp_.status);
    reply.capture_interval_s = uint32_t(interval);
  }
  json_bool(doc.get(), "rotate_token", &reply.rotate_token);
  // A malformed offer is no offer: the camera keeps running what it runs.
  const cJSON* update = cJSON_GetObjectItemCaseSensitive(doc.get(), "update");
  reply.has_update = update && parse_ota_offer(update, &reply.update, &reply.download);
  return r;
}

ApiResult LifecycleApi::rotate(const char* token, char* new_token, size_t cap) {
  snprintf(body_, sizeof(body_), "{}");
  ApiResult r = post("/devices/rotate", token);
  if (!r.ok()) return r;
  JsonDoc doc(resp_.body_truncated ? nullptr : cJSON_ParseWithLength(resp_.body, resp_.body_len));
  const char* fresh = doc ? json_string(doc.get(), "device_token") : nullptr;
  if (!fresh || !fresh[0] || !copy_bounded(new_token, cap, fresh)) {
    return unexpected_answer(resp_.status);
  }
  return r;
}

}  // namespace lifelog
