#include "device_settings.h"

#include <cstdio>
#include <cstring>

namespace device {
namespace {

void network_keys(size_t i, char* ssid_key, char* pass_key, size_t cap) {
  snprintf(ssid_key, cap, "wifi_ssid_%u", unsigned(i));
  snprintf(pass_key, cap, "wifi_pass_%u", unsigned(i));
}

bool load_networks(lifelog::KeyValueStore& kv, WifiCredentials* out, size_t* count) {
  uint32_t stored = 0;
  *count = 0;
  if (!kv.get_u32(key::kNetworkCount, &stored)) return true;
  for (size_t i = 0; i < stored && i < kMaxNetworks; ++i) {
    char ssid_key[16], pass_key[16];
    network_keys(i, ssid_key, pass_key, sizeof(ssid_key));
    WifiCredentials& n = out[*count];
    if (!kv.get_str(ssid_key, n.ssid, sizeof(n.ssid)) || !n.ssid[0]) continue;
    if (!kv.get_str(pass_key, n.password, sizeof(n.password))) n.password[0] = '\0';  // open network
    if (lifelog::wifi_credentials_problem(n.ssid, n.password)) continue;  // the radio would refuse it
    ++*count;
  }
  return true;
}

}  // namespace

bool load_settings(lifelog::KeyValueStore& kv, Settings* out) {
  Settings s;
  load_networks(kv, s.networks, &s.network_count);
  uint32_t v = 0;
  if (kv.get_u32(key::kCaptureIntervalS, &v) && v > 0) s.capture_interval_s = v;
  if (kv.get_u32(key::kJpegQuality, &v) && v >= 4 && v <= 63) s.jpeg_quality = v;
  if (kv.get_u32(key::kChunkSize, &v) && v > 0 && v <= 8192) s.chunk_size = v;
  char frame[kFrameSizeCap];
  if (kv.get_str(key::kFrameSize, frame, sizeof(frame))) memcpy(s.frame_size, frame, sizeof(frame));
  char tz[kTimeZoneCap];
  if (kv.get_str(key::kTimeZone, tz, sizeof(tz)) && tz[0]) memcpy(s.time_zone, tz, sizeof(tz));
  bool has_url = kv.get_str(key::kApiBaseUrl, s.api_base_url, sizeof(s.api_base_url)) && s.api_base_url[0];
  *out = s;
  return has_url;
}

bool save_networks(lifelog::KeyValueStore& kv, const WifiCredentials* networks, size_t count) {
  if (count > kMaxNetworks) count = kMaxNetworks;
  bool ok = true;
  for (size_t i = 0; i < kMaxNetworks; ++i) {
    char ssid_key[16], pass_key[16];
    network_keys(i, ssid_key, pass_key, sizeof(ssid_key));
    if (i < count) {
      ok = kv.put_str(ssid_key, networks[i].ssid) && kv.put_str(pass_key, networks[i].password) && ok;
    } else {
      kv.erase(ssid_key);
      kv.erase(pass_key);
    }
  }
  return kv.put_u32(key::kNetworkCount, uint32_t(count)) && ok;
}

bool remember_network(lifelog::KeyValueStore& kv, const char* ssid, const char* password, const char** why) {
  const char* problem = lifelog::wifi_credentials_problem(ssid, password ? password : "");
  if (why) *why = problem;
  if (problem) return false;
  WifiCredentials networks[kMaxNetworks];
  size_t count = 0;
  load_networks(kv, networks, &count);
  size_t slot = count;
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(networks[i].ssid, ssid) == 0) slot = i;
  }
  if (slot == kMaxNetworks) slot = kMaxNetworks - 1;
  snprintf(networks[slot].ssid, kSsidCap, "%s", ssid);
  snprintf(networks[slot].password, kPasswordCap, "%s", password);
  if (slot == count) ++count;
  return save_networks(kv, networks, count);
}

bool load_pairing_code(lifelog::KeyValueStore& kv, char* out, size_t cap) {
  return kv.get_str(key::kPairingCode, out, cap) && out[0];
}

bool store_pairing_code(lifelog::KeyValueStore& kv, const char* code) {
  if (!code || !code[0]) return kv.erase(key::kPairingCode);
  return kv.put_str(key::kPairingCode, code);
}

}  // namespace device
