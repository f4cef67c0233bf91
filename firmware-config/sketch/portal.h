#pragma once
// Setup portal: an open SoftAP "Lifelog-Setup-XXXX", a DNS server that answers every name with
// the AP's address (so phones pop up their captive-portal sheet), and one page served from flash
// to enter a Wi-Fi network and/or a pairing code. Saved values go to NVS only.
#include <cstdint>

#include "src/lifelog/kv_store.h"
#include "status_led.h"

// Blocks until the form is saved (true) or timeout_ms pass (false). Leaves Wi-Fi in STA mode.
// A new pairing code drops the stored device token: typing one is an explicit request to re-pair.
bool run_setup_portal(lifelog::KeyValueStore& kv, StatusLed& led, uint32_t timeout_ms);
