#include "provisioning.h"

#include <cstdio>
#include <cstring>

#include "device_settings.h"
#include "lifelog_config.h"
#include "lifelog_core.h"

namespace device {
namespace {

struct ConfigNetwork {
  const char* ssid;
  const char* password;
};

const ConfigNetwork kConfigNetworks[] = {LIFELOG_WIFI_NETWORKS};

bool write_defaults(lifelog::KeyValueStore& kv) {
  WifiCredentials networks[kMaxNetworks];
  size_t count = 0;
  for (const ConfigNetwork& n : kConfigNetworks) {
    if (count == kMaxNetworks || !n.ssid[0]) continue;
    snprintf(networks[count].ssid, kSsidCap, "%s", n.ssid);
    snprintf(networks[count].password, kPasswordCap, "%s", n.password);
    ++count;
  }
  bool ok = save_networks(kv, networks, count);
  ok = kv.put_u32(key::kCaptureIntervalS, LIFELOG_CAPTURE_INTERVAL_S) && ok;
  ok = kv.put_str(key::kFrameSize, LIFELOG_FRAME_SIZE_NAME) && ok;
  ok = kv.put_u32(key::kJpegQuality, LIFELOG_JPEG_QUALITY) && ok;
  ok = kv.put_u32(key::kChunkSize, LIFELOG_CHUNK_SIZE) && ok;
  ok = kv.put_str(key::kTimeZone, LIFELOG_TIME_ZONE) && ok;
  ok = kv.put_str(key::kPortalSsid, LIFELOG_PORTAL_SSID) && ok;
  ok = kv.put_str(key::kPortalPassword, LIFELOG_PORTAL_PASSWORD) && ok;
  // An empty pairing code in the config leaves one typed into the portal alone.
  if (LIFELOG_PAIRING_CODE[0]) ok = store_pairing_code(kv, LIFELOG_PAIRING_CODE) && ok;
  return ok;
}

}  // namespace

ProvisionResult provision_from_config(lifelog::KeyValueStore& kv) {
  uint32_t stored_version = 0;
  if (kv.get_u32(key::kConfigVersion, &stored_version) && stored_version == LIFELOG_CONFIG_VERSION) {
    return ProvisionResult::AlreadyCurrent;
  }
  char old_url[kUrlCap] = {};
  kv.get_str(key::kApiBaseUrl, old_url, sizeof(old_url));
  if (old_url[0] && strcmp(old_url, LIFELOG_API_BASE_URL) != 0) lifelog::forget_device_token(kv);
  bool ok = kv.put_str(key::kApiBaseUrl, LIFELOG_API_BASE_URL) && write_defaults(kv);
  // The version goes last: a power cut mid-way re-runs the whole provisioning next boot.
  if (!ok || !kv.put_u32(key::kConfigVersion, LIFELOG_CONFIG_VERSION)) return ProvisionResult::StoreFailed;
  return ProvisionResult::Provisioned;
}

}  // namespace device
