#include "lifelog/ota_offer.h"

#include <cstring>

namespace lifelog {

namespace {

bool lower_hex(const char* s, size_t len) {
  if (!s || strlen(s) != len) return false;
  for (size_t i = 0; i < len; ++i) {
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  }
  return true;
}

}  // namespace

bool parse_ota_offer(const cJSON* update, OtaOffer* offer, OtaDownload* download) {
  if (!cJSON_IsObject(update)) return false;
  OtaOffer o;
  OtaDownload d;
  double size = 0, port = 0;
  uint32_t v[3];
  const char* version = json_string(update, "version");
  const char* min_version = json_string(update, "min_version");
  if (!version || !parse_version(version, v) || !copy_bounded(o.version, sizeof o.version, version)) return false;
  if (min_version && (!parse_version(min_version, v) || !copy_bounded(o.min_version, sizeof o.min_version, min_version))) {
    return false;
  }
  if (!json_number(update, "size", &size) || size < 1 || size > 0xFFFFFFFF || size != double(uint32_t(size))) return false;
  o.size = uint32_t(size);
  const char* sha = json_string(update, "sha256");
  const char* sig = json_string(update, "signature");
  const char* key_id = json_string(update, "key_id");
  if (!lower_hex(sha, 64) || !lower_hex(sig, 128) || !lower_hex(key_id, 16)) return false;
  copy_bounded(o.sha256, sizeof o.sha256, sha);
  copy_bounded(o.signature, sizeof o.signature, sig);
  copy_bounded(o.key_id, sizeof o.key_id, key_id);
  if (!copy_bounded(d.host, sizeof d.host, json_string(update, "download_host")) || !d.host[0]) return false;
  if (!copy_bounded(d.path, sizeof d.path, json_string(update, "download_path")) || d.path[0] != '/') return false;
  if (!json_number(update, "download_port", &port) || port < 1 || port > 65535 || port != double(uint16_t(port))) return false;
  d.port = uint16_t(port);
  *offer = o;
  *download = d;
  return true;
}

bool add_ota_report(cJSON* body, const OtaReport& report) {
  if (!cJSON_AddStringToObject(body, "ota_state", ota_state_name(report.state))) return false;
  cJSON* version = report.version[0] ? cJSON_AddStringToObject(body, "ota_version", report.version)
                                     : cJSON_AddNullToObject(body, "ota_version");
  cJSON* error = report.error[0] ? cJSON_AddStringToObject(body, "ota_error", report.error)
                                 : cJSON_AddNullToObject(body, "ota_error");
  return version && error;
}

}  // namespace lifelog
