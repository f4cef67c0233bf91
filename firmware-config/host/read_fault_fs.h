#pragma once
// A FileSystem decorator that makes reads fail the way an SPI microSD card does: File::read()
// on arduino-esp32 returns 0 or -1 when the card stops answering mid-file (a CRC or timeout
// inside sdmmc/sdspi), and the file stays unreadable until the card is reinitialised. Used by the
// host tests and sim-camera (--read-faults) to show the uploader's remount-and-retry bound.
#include <cstdint>
#include <string>

#include "lifelog/card_mount.h"
#include "lifelog/file_system.h"

class ReadFaultFs : public lifelog::FileSystem, public lifelog::CardMount {
 public:
  explicit ReadFaultFs(lifelog::FileSystem& inner) : inner_(inner) {}

  // Reads of files whose path contains `match` fail once they reach byte `offset`. The fault
  // clears after `mounts_to_clear` remounts (0: it never clears: a dead sector).
  void inject(const std::string& match, uint64_t offset, uint32_t mounts_to_clear) {
    match_ = match;
    offset_ = offset;
    mounts_to_clear_ = mounts_to_clear;
    armed_ = true;
  }
  uint32_t remounts() const { return remounts_; }
  uint32_t failed_reads() const { return failed_reads_; }

  bool remount() override;

  int open(const char* path, lifelog::OpenMode mode) override;
  int32_t read(int fd, uint8_t* buf, size_t len) override;
  int32_t write(int fd, const uint8_t* buf, size_t len) override { return inner_.write(fd, buf, len); }
  bool flush(int fd) override { return inner_.flush(fd); }
  bool close(int fd) override;
  bool exists(const char* path) override { return inner_.exists(path); }
  int64_t file_size(const char* path) override { return inner_.file_size(path); }
  bool remove(const char* path) override { return inner_.remove(path); }
  bool rename(const char* from, const char* to) override { return inner_.rename(from, to); }
  bool make_dir(const char* path) override { return inner_.make_dir(path); }
  bool remove_dir(const char* path) override { return inner_.remove_dir(path); }
  bool list_dir(const char* dir, lifelog::DirVisitor& visitor) override { return inner_.list_dir(dir, visitor); }
  uint64_t free_bytes() override { return inner_.free_bytes(); }

 private:
  static constexpr int kMaxFiles = 16;
  lifelog::FileSystem& inner_;
  std::string match_;
  uint64_t offset_ = 0;
  uint32_t mounts_to_clear_ = 0;
  bool armed_ = false;
  uint32_t remounts_ = 0;
  uint32_t failed_reads_ = 0;
  // Per open handle: read position and whether the fault applies to it.
  uint64_t pos_[kMaxFiles] = {};
  bool faulty_[kMaxFiles] = {};
};
