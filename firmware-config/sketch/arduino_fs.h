#pragma once
// lifelog::FileSystem over the microSD card on SPI (XIAO ESP32S3 Sense: SCK 7, MISO 8, MOSI 9,
// CS 21). GPIO21 is also the user LED: while the card is mounted the LED must stay untouched
// (see StatusLed). FAT semantics hold as the core expects: rename() fails when the target exists.
#include <FS.h>
#include <SD.h>

#include "lifelog_core.h"

class ArduinoFileSystem : public lifelog::FileSystem {
 public:
  static constexpr uint8_t kSck = 7, kMiso = 8, kMosi = 9, kCs = 21;
  static constexpr size_t kMaxOpenFiles = 4;  // the core keeps at most two open at once

  explicit ArduinoFileSystem(uint32_t spi_hz = 20000000) : spi_hz_(spi_hz) {}

  bool mount();    // SPI + SD.begin; false when no usable card answers
  void unmount();  // closes every handle; after this GPIO21 is free for the LED
  bool mounted() const { return mounted_; }

  int open(const char* path, lifelog::OpenMode mode) override;
  int32_t read(int fd, uint8_t* buf, size_t len) override;
  int32_t write(int fd, const uint8_t* buf, size_t len) override;
  bool flush(int fd) override;
  bool close(int fd) override;
  bool exists(const char* path) override;
  int64_t file_size(const char* path) override;
  int64_t open_size(int fd) override;
  bool remove(const char* path) override;
  bool rename(const char* from, const char* to) override;
  bool make_dir(const char* path) override;
  bool remove_dir(const char* path) override;
  bool list_dir(const char* dir, lifelog::DirVisitor& visitor) override;
  uint64_t free_bytes() override;

 private:
  File* slot(int fd);
  uint32_t spi_hz_;
  bool mounted_ = false;
  File files_[kMaxOpenFiles];
  bool used_[kMaxOpenFiles] = {};
};
