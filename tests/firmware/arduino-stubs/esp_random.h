// DECLARATIONS ONLY (ESP-IDF components/esp_hw_support/include/esp_random.h); see README.md.
#pragma once
#include <cstdint>
uint32_t esp_random(void);
