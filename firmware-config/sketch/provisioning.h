#pragma once
// First-boot provisioning and activation. The rendered lifelog_config.h supplies defaults that
// are copied into NVS once per config version; the device token is obtained with the pairing
// code and then exists only in NVS (it is never compiled into the sketch).
#include <cstddef>
#include <cstdint>

#include "src/lifelog/activation_key.h"
#include "src/lifelog/device_api.h"
#include "src/lifelog/kv_store.h"
#include "src/lifelog/rng.h"

namespace device {

enum class ProvisionResult : uint8_t { AlreadyCurrent, Provisioned, StoreFailed };

// Writes the compiled-in defaults to NVS when NVS holds another (or no) config version.
// A changed API URL drops the stored token: it belongs to another server.
ProvisionResult provision_from_config(lifelog::KeyValueStore& kv);

// lifelog::activate_device() with the pairing code stored in NVS. NoCode: the portal has to
// supply one. The code is single use: it is erased once Activated or Refused. Activated copies
// the token to token_out. Retry: the backoff is the caller's.
using ActivationOutcome = lifelog::ActivationOutcome;

// entropy: the hardware RNG, for the activation key that makes a retried activation safe.
ActivationOutcome activate_with_pairing_code(lifelog::KeyValueStore& kv, lifelog::Rng& entropy,
                                             lifelog::DeviceApi& api, char* token_out, size_t cap,
                                             lifelog::ApiResult* result);

}  // namespace device
