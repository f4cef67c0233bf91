#pragma once
// First-boot provisioning. The rendered lifelog_config.h supplies defaults that are copied into
// NVS once per config version. The device token is obtained with the pairing code by the device
// loop (lifelog::activate_with_stored_code) and then exists only in NVS (never in the sketch).
#include <cstdint>

#include "lifelog_core.h"

namespace device {

enum class ProvisionResult : uint8_t { AlreadyCurrent, Provisioned, StoreFailed };

// Writes the compiled-in defaults to NVS when NVS holds another (or no) config version.
// A changed API URL drops the stored token: it belongs to another server.
ProvisionResult provision_from_config(lifelog::KeyValueStore& kv);

}  // namespace device
