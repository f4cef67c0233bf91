#pragma once
// Setup portal: a WPA2 SoftAP (name and per-device password from NVS, written by `render`/`nvs`,
// which show them as text and QR), a DNS server that answers every name with the AP's address
// (so phones pop up their captive-portal sheet), and one page served from flash to enter a
// Wi-Fi network and/or a pairing code. When it may open and what a typed code may do are the
// core's rules (portal_policy.h); this file only serves the page.
#include <cstdint>

#include "lifelog_core.h"
#include "status_led.h"

// Blocks until the form is saved (true) or timeout_ms pass (false), feeding the task watchdog.
// Leaves Wi-Fi in STA mode. Does not start (false) without a usable WPA2 password in NVS.
bool run_setup_portal(lifelog::KeyValueStore& kv, StatusLed& led, uint32_t timeout_ms, lifelog::TokenState token);
