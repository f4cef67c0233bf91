#include "ota_glue.h"

#include <esp_system.h>

#include <cstdio>
#include <cstring>

// arduino-esp32's initArduino() marks a new image valid before setup() unless this returns true;
// the core's OtaUpdater confirms it after the first good heartbeat, or rolls it back.
extern "C" bool verifyRollbackLater() { return true; }

bool EspUpdatePartition::erase_sector(uint32_t offset) {
  return part_ && esp_partition_erase_range(part_, offset, kSectorSize) == ESP_OK;
}

bool EspUpdatePartition::write(uint32_t offset, const uint8_t* data, size_t len) {
  return part_ && esp_partition_write(part_, offset, data, len) == ESP_OK;
}

bool EspUpdatePartition::read(uint32_t offset, uint8_t* data, size_t len) {
  return part_ && esp_partition_read(part_, offset, data, len) == ESP_OK;
}

bool EspUpdatePartition::set_boot() { return part_ && esp_ota_set_boot_partition(part_) == ESP_OK; }

bool EspBootState::pending_verify() {
  esp_ota_img_states_t state = ESP_OTA_IMG_UNDEFINED;
  return esp_ota_get_state_partition(esp_ota_get_running_partition(), &state) == ESP_OK &&
         state == ESP_OTA_IMG_PENDING_VERIFY;
}

bool EspBootState::confirm() { return esp_ota_mark_app_valid_cancel_rollback() == ESP_OK; }

void EspBootState::rollback_and_reboot() {
  esp_ota_mark_app_invalid_rollback_and_reboot();
  esp_restart();  // only reached when there was no image to go back to
}

void restart_for_update() { esp_restart(); }

bool parse_release_key(const char* hex, lifelog::OtaTrustedKey* out) {
  if (!hex || strlen(hex) != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (sscanf(hex + 2 * i, "%2x", &v) != 1) return false;
    out->public_key[i] = uint8_t(v);
  }
  return true;
}
