#pragma once
#include <cstdint>
#include <string>

#include "lifelog/file_system.h"

// The "SD card" as a folder. Keeps FAT's rule that rename() never replaces a file.
class PosixFileSystem : public lifelog::FileSystem {
 public:
  // capacity_bytes > 0 simulates a card of that size; 0 reports the real free space.
  explicit PosixFileSystem(std::string root, uint64_t capacity_bytes = 0, bool durable = true)
      : root_(std::move(root)), capacity_(capacity_bytes), durable_(durable) {}

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
  std::string full(const char* path) const;
  void sync_parent(const std::string& full_path);
  uint64_t used_bytes(const std::string& dir);
  std::string root_;
  uint64_t capacity_;
  bool durable_;
};
