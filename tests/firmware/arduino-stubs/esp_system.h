// DECLARATIONS ONLY (ESP-IDF 5 components/esp_system/include/esp_system.h); see README.md.
#pragma once

[[noreturn]] void esp_restart(void);
