// DECLARATIONS ONLY (ESP-IDF esp_idf_version.h; arduino-esp32 3.x is built on IDF 5); see README.md.
#pragma once
#define ESP_IDF_VERSION_MAJOR 5
