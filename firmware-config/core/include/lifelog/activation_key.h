#pragma once
#include <cstddef>

#include "kv_store.h"
#include "rng.h"

namespace lifelog {

constexpr size_t kActivationKeyLength = 32;  // hex characters: 128 bits
constexpr const char* kActivationKeyName = "act_key";

// The random key a device sends with its pairing code. It is stored before the first
// attempt, so that an attempt whose answer was lost can be repeated: the server
// recognises the same key and issues a fresh token instead of "code already used".
// Feed it a real entropy source (the ESP32's hardware RNG, /dev/urandom on a host).
bool load_or_create_activation_key(KeyValueStore& kv, Rng& rng, char* out, size_t cap);

// Once the token is stored the key has no further use.
void forget_activation_key(KeyValueStore& kv);

}  // namespace lifelog
