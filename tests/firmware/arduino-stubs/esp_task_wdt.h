// DECLARATIONS ONLY (ESP-IDF 5 components/esp_system/include/esp_task_wdt.h); see README.md.
#pragma once
#include <cstdint>

typedef int esp_err_t;
#define ESP_OK 0
typedef struct tskTaskControlBlock* TaskHandle_t;
typedef struct {
  uint32_t timeout_ms;
  uint32_t idle_core_mask;
  bool trigger_panic;
} esp_task_wdt_config_t;

esp_err_t esp_task_wdt_init(const esp_task_wdt_config_t* config);
esp_err_t esp_task_wdt_reconfigure(const esp_task_wdt_config_t* config);
esp_err_t esp_task_wdt_add(TaskHandle_t task_handle);
esp_err_t esp_task_wdt_reset(void);
