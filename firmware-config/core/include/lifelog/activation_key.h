#pragma once
#include <cstddef>
#include <cstdint>

#include "device_api.h"
#include "kv_store.h"
#include "rng.h"

namespace lifelog {

constexpr size_t kActivationKeyLength = 32;  // hex characters: 128 bits
constexpr const char* kActivationKeyName = "act_key";
constexpr const char* kDeviceTokenKey = "device_token";
constexpr const char* kDeviceIdKey = "device_id";
// The pairing code waiting to be used (from the config or typed into the portal): single use.
constexpr const char* kPairingCodeKey = "pairing_code";

// The random key a device sends with its pairing code. It is stored before the first
// attempt, so that an attempt whose answer was lost can be repeated: the server
// recognises the same key and issues a fresh token instead of "code already used".
// Feed it a real entropy source (the ESP32's hardware RNG, /dev/urandom on a host).
bool load_or_create_activation_key(KeyValueStore& kv, Rng& rng, char* out, size_t cap);

// Once the token is stored the key has no further use.
void forget_activation_key(KeyValueStore& kv);

enum class ActivationOutcome : uint8_t {
  Activated,    // token and device id stored in kv, copied to *out; the activation key is forgotten
  NoCode,       // no pairing code to activate with
  Retry,        // network/server trouble: try again later (retry_delay_ms() says when)
  Refused,      // the code was refused for good
  StoreFailed,  // kv refused the activation key or the token
};

// One activation attempt with the pairing code and the stored (or a new) activation key.
// The loop around it, its pacing and the pairing code's bookkeeping are the caller's.
ActivationOutcome activate_device(KeyValueStore& kv, Rng& entropy, DeviceApi& api, const char* pairing_code,
                                  Activation* out, ApiResult* result);

// activate_device() with the pairing code stored under kPairingCodeKey (NoCode without one). The
// code is single use: it is erased once Activated or Refused.
ActivationOutcome activate_with_stored_code(KeyValueStore& kv, Rng& entropy, DeviceApi& api, Activation* out,
                                            ApiResult* result);

// No token this device holds is accepted any more: the token, a rotation's unproven successor
// and the device id go; a new pairing code is needed.
bool forget_device_token(KeyValueStore& kv);

}  // namespace lifelog
