// DECLARATIONS ONLY (ESP-IDF components/esp_timer/include/esp_timer.h); see README.md.
#pragma once
#include <cstdint>
int64_t esp_timer_get_time(void);
