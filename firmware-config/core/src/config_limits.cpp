#include "lifelog/config_limits.h"

#include <cstring>

namespace lifelog {

const char* wifi_credentials_problem(const char* ssid, const char* password) {
  if (!ssid || !ssid[0]) return "the SSID is empty";
  if (strlen(ssid) > kMaxSsidBytes) return "the SSID is longer than 32 bytes (the radio takes at most 32)";
  if (!password || !password[0]) return nullptr;  // an open network
  size_t n = strlen(password);
  if (n == kPskHexBytes) {
    for (size_t i = 0; i < n; ++i) {
      char c = password[i];
      bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!hex) return "a 64-character password must be 64 hex digits (a raw WPA2 key)";
    }
    return nullptr;
  }
  if (n < kMinPassphraseBytes) return "the password is shorter than 8 characters (WPA2 needs 8-63)";
  if (n > kMaxPassphraseBytes) return "the password is longer than 63 characters (or 64 hex digits)";
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(password[i]);
    if (c < 32 || c > 126) return "the password may hold only ASCII letters, digits, spaces and symbols";
  }
  return nullptr;
}

}  // namespace lifelog
