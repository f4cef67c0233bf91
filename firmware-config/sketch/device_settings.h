#pragma once
// What the device remembers in NVS (never on the card), as typed accessors over the core's
// KeyValueStore. Portable: no Arduino types, so the same rules hold for every store.
#include <cstddef>
#include <cstdint>

#include "lifelog_core.h"

namespace device {

constexpr size_t kMaxNetworks = 4;
// Buffers hold the shared byte limits (config_limits.h) plus the NUL.
constexpr size_t kSsidCap = lifelog::kMaxSsidBytes + 1;
constexpr size_t kPasswordCap = lifelog::kPskHexBytes + 1;
constexpr size_t kUrlCap = lifelog::kMaxApiBaseUrlBytes + 1;
constexpr size_t kPairingCodeCap = lifelog::kMaxPairingCodeBytes + 1;
constexpr size_t kTokenCap = 160;    // lifelog::Activation::device_token
constexpr size_t kTimeZoneCap = lifelog::kMaxTimeZoneBytes + 1;
constexpr size_t kPortalPasswordCap = lifelog::kMaxPassphraseBytes + 1;
constexpr size_t kFrameSizeCap = 8;

// NVS keys: at most 15 characters each (NVS limit). The core adds "seq_limit", "dropped",
// "act_key", "boot_id" and "frames_done", and stores the token and device id at activation.
namespace key {
constexpr const char* kConfigVersion = "cfg_version";
constexpr const char* kApiBaseUrl = "api_url";
constexpr const char* kPairingCode = lifelog::kPairingCodeKey;
constexpr const char* kDeviceToken = lifelog::kDeviceTokenKey;
constexpr const char* kDeviceId = lifelog::kDeviceIdKey;
constexpr const char* kCaptureIntervalS = "interval_s";
constexpr const char* kFrameSize = "frame_size";
constexpr const char* kJpegQuality = "jpeg_quality";
constexpr const char* kChunkSize = "chunk_size";
constexpr const char* kTimeZone = "time_zone";
constexpr const char* kNetworkCount = "wifi_count";
constexpr const char* kPortalPassword = "portal_pass";
constexpr const char* kPortalSsid = "portal_ssid";
}  // namespace key

struct WifiCredentials {
  char ssid[kSsidCap] = {};
  char password[kPasswordCap] = {};
};

struct Settings {
  WifiCredentials networks[kMaxNetworks];
  size_t network_count = 0;
  char api_base_url[kUrlCap] = {};
  uint32_t capture_interval_s = 30;
  char frame_size[kFrameSizeCap] = "UXGA";
  uint32_t jpeg_quality = 12;
  uint32_t chunk_size = 8192;
  char time_zone[kTimeZoneCap] = "UTC0";
};

// Missing values keep the defaults above; false only when the API URL is absent.
bool load_settings(lifelog::KeyValueStore& kv, Settings* out);

bool save_networks(lifelog::KeyValueStore& kv, const WifiCredentials* networks, size_t count);
// Portal entry: an SSID already known gets the new password; a new one is appended, or
// replaces the last slot when all are taken. Refused (false, *why set) when the radio could not
// use it (lifelog::wifi_credentials_problem).
bool remember_network(lifelog::KeyValueStore& kv, const char* ssid, const char* password, const char** why = nullptr);


bool load_pairing_code(lifelog::KeyValueStore& kv, char* out, size_t cap);
bool store_pairing_code(lifelog::KeyValueStore& kv, const char* code);

}  // namespace device
