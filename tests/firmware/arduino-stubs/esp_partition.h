// DECLARATIONS ONLY (ESP-IDF 5 components/esp_partition/include/esp_partition.h); see README.md.
#pragma once
#include <cstddef>
#include <cstdint>

typedef int esp_err_t;
#define ESP_OK 0
typedef struct {
  uint32_t address;
  uint32_t size;
  uint32_t erase_size;
  char label[17];
} esp_partition_t;

esp_err_t esp_partition_read(const esp_partition_t* partition, size_t src_offset, void* dst, size_t size);
esp_err_t esp_partition_write(const esp_partition_t* partition, size_t dst_offset, const void* src, size_t size);
esp_err_t esp_partition_erase_range(const esp_partition_t* partition, size_t offset, size_t size);
