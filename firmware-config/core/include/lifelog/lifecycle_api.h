#pragma once
// The device's lifecycle routes: POST /devices/heartbeat (status in, the owner's settings
// out) and POST /devices/rotate (a new token). Same transport and error mapping as DeviceApi.
#include <cstddef>
#include <cstdint>

#include "device_api.h"
#include "http.h"
#include "ota_offer.h"

namespace lifelog {

// What the camera reports. Counters as the queue keeps them; text as words for the owner.
struct StatusReport {
  const char* firmware_version = "";
  uint64_t free_bytes = 0;
  uint32_t queue_depth = 0;
  uint64_t dropped = 0;      // photos evicted to make room
  uint32_t quarantined = 0;  // photos the server refused for good
  const char* last_error = nullptr;  // null or empty: none
  uint64_t uptime_s = 0;
  bool has_rssi = false;
  int32_t rssi_dbm = 0;
  bool clock_synced = false;
  const OtaReport* ota = nullptr;  // null: the platform cannot update (no OTA fields sent)
};

struct HeartbeatReply {
  bool paused = false;
  uint32_t capture_interval_s = 0;  // 0: the owner left it to the camera
  uint32_t next_heartbeat_s = 0;
  bool rotate_token = false;
  bool has_update = false;  // the answer offered a well-formed update
  OtaOffer update;
  OtaDownload download;
};

constexpr size_t kMaxDeviceToken = 160;
constexpr size_t kMaxLastError = 200;  // the server's limit

class LifecycleApi {
 public:
  LifecycleApi(HttpConnection& conn, const ApiEndpoint& endpoint) : conn_(conn), endpoint_(endpoint) {}

  ApiResult heartbeat(const char* token, const StatusReport& report, HeartbeatReply* out);
  // The new token is copied to new_token (cap >= kMaxDeviceToken) only on success.
  ApiResult rotate(const char* token, char* new_token, size_t cap);

 private:
  ApiResult post(const char* route, const char* token);

  HttpConnection& conn_;
  const ApiEndpoint& endpoint_;
  char body_[768] = {};
  HttpResponse resp_;
};

// The report's last_error as the server accepts it: printable ASCII, at most kMaxLastError
// bytes (anything else becomes '?', longer text is cut). out needs kMaxLastError + 1.
void printable_error_text(const char* in, char* out, size_t cap);

}  // namespace lifelog
