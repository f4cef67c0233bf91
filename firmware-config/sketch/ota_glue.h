#pragma once
// The updater's two adapters on the board: the inactive app slot (esp_partition_* on
// esp_ota_get_next_update_partition) and the bootloader's view of the running image (esp_ota_*,
// with CONFIG_BOOTLOADER_APP_ROLLBACK_ENABLE as arduino-esp32 3.1.3 builds it). Together with
// verifyRollbackLater() (ota_glue.cpp) a new image boots in pending-verify and the core confirms it.
#include <esp_ota_ops.h>
#include <esp_partition.h>

#include "lifelog_core.h"

class EspUpdatePartition : public lifelog::UpdatePartition {
 public:
  // The slot that does not run now; null when the partition table has no second app slot.
  EspUpdatePartition() : part_(esp_ota_get_next_update_partition(nullptr)) {}
  bool usable() const { return part_ != nullptr; }
  uint32_t size() override { return part_ ? uint32_t(part_->size) : 0; }
  bool erase_sector(uint32_t offset) override;
  bool write(uint32_t offset, const uint8_t* data, size_t len) override;
  bool read(uint32_t offset, uint8_t* data, size_t len) override;
  bool set_boot() override;

 private:
  const esp_partition_t* part_;
};

class EspBootState : public lifelog::BootState {
 public:
  bool pending_verify() override;
  bool confirm() override;
  void rollback_and_reboot() override;
};

// The new image is set to boot: restart the chip (does not return).
void restart_for_update();

// The release public key built into the sketch (64 hex digits); false when there is none.
bool parse_release_key(const char* hex, lifelog::OtaTrustedKey* out);
