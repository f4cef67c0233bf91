#include "lifelog/activation_key.h"

#include <cstring>

#include "lifelog/config_limits.h"
#include "lifelog/token_rotation.h"

namespace lifelog {

bool load_or_create_activation_key(KeyValueStore& kv, Rng& rng, char* out, size_t cap) {
  if (cap < kActivationKeyLength + 1) return false;
  if (kv.get_str(kActivationKeyName, out, cap) && strlen(out) == kActivationKeyLength) return true;
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < kActivationKeyLength; i += 8) {
    uint32_t r = rng.next_u32();
    for (size_t j = 0; j < 8; ++j, r >>= 4) out[i + j] = kHex[r & 0xF];
  }
  out[kActivationKeyLength] = '\0';
  return kv.put_str(kActivationKeyName, out);
}

void forget_activation_key(KeyValueStore& kv) { kv.erase(kActivationKeyName); }

ActivationOutcome activate_device(KeyValueStore& kv, Rng& entropy, DeviceApi& api, const char* pairing_code,
                                  Activation* out, ApiResult* result) {
  *result = ApiResult();
  if (!pairing_code || !pairing_code[0]) return ActivationOutcome::NoCode;
  char key[kActivationKeyLength + 1];
  if (!load_or_create_activation_key(kv, entropy, key, sizeof(key))) return ActivationOutcome::StoreFailed;
  *result = api.activate(pairing_code, key, out);
  if (result->ok()) {
    if (!kv.put_str(kDeviceTokenKey, out->device_token) || !kv.put_str(kDeviceIdKey, out->device_id)) {
      return ActivationOutcome::StoreFailed;
    }
    forget_activation_key(kv);
    return ActivationOutcome::Activated;
  }
  if (result->outcome == ApiOutcome::Rejected || result->outcome == ApiOutcome::Unauthorized) {
    return ActivationOutcome::Refused;
  }
  return ActivationOutcome::Retry;
}

ActivationOutcome activate_with_stored_code(KeyValueStore& kv, Rng& entropy, DeviceApi& api, Activation* out,
                                            ApiResult* result) {
  *result = ApiResult();
  char code[kMaxPairingCodeBytes + 1];
  if (!kv.get_str(kPairingCodeKey, code, sizeof(code)) || !code[0]) return ActivationOutcome::NoCode;
  ActivationOutcome outcome = activate_device(kv, entropy, api, code, out, result);
  if (outcome == ActivationOutcome::Activated || outcome == ActivationOutcome::Refused) kv.erase(kPairingCodeKey);
  return outcome;
}

bool forget_device_token(KeyValueStore& kv) {
  kv.erase(kDeviceIdKey);
  kv.erase(kNextTokenKey);
  return kv.erase(kDeviceTokenKey);
}

}  // namespace lifelog
