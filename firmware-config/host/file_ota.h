#pragma once
// The simulated camera's two app slots and its bootloader, as files in one folder:
// slot0.bin and slot1.bin (the images), boot.kv (which slot runs, which boots next, and
// whether the running one waits for its confirmation). power_on() decides as ESP-IDF's
// bootloader does with rollback enabled: a slot set to boot starts pending-verify, and a
// reset while pending goes back to the previous slot.
#include <cstdint>
#include <functional>
#include <string>

#include "file_kv.h"
#include "lifelog/ota_updater.h"

class FileBootState : public lifelog::BootState {
 public:
  explicit FileBootState(std::string dir);
  // At every start of the process; false when the folder cannot be read or written.
  bool power_on();
  int running_slot() const { return running_; }
  std::string slot_path(int slot) const;
  bool pending_verify() override { return pending_; }
  bool confirm() override;
  // Marks the running image invalid and restarts (on_reboot; the simulator exits there).
  void rollback_and_reboot() override;
  std::function<void()> on_reboot;
  // set_boot of the inactive slot (FileUpdatePartition)
  bool boot_next(int slot);

 private:
  bool save();
  std::string dir_;
  FileKeyValueStore kv_;
  int running_ = 0;
  int next_ = -1;
  bool pending_ = false;
};

// The slot that is not running, as a file of a fixed capacity that behaves like NOR flash.
class FileUpdatePartition : public lifelog::UpdatePartition {
 public:
  FileUpdatePartition(FileBootState& boot, uint32_t capacity) : boot_(boot), capacity_(capacity) {}
  uint32_t size() override { return capacity_; }
  bool erase_sector(uint32_t offset) override;
  bool write(uint32_t offset, const uint8_t* data, size_t len) override;
  bool read(uint32_t offset, uint8_t* data, size_t len) override;
  bool set_boot() override { return boot_.boot_next(1 - boot_.running_slot()); }

 private:
  std::string path() const { return boot_.slot_path(1 - boot_.running_slot()); }
  FileBootState& boot_;
  uint32_t capacity_;
};
