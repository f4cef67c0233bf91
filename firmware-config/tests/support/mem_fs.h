#pragma once
// In-memory card with power-cut injection. Every written byte reaches the "card" at once,
// in order (the harshest model); a cut stops persistence mid-write and fails everything after.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lifelog/file_system.h"

class MemFs : public lifelog::FileSystem {
 public:
  std::map<std::string, std::vector<uint8_t>> files;
  std::set<std::string> dirs;
  // Units left before the cut: one per byte written, one per metadata operation.
  // Negative means no cut is armed.
  int64_t budget = -1;
  bool crashed = false;
  uint64_t capacity = UINT64_MAX;  // free_bytes() = capacity - bytes stored
  // A failing card: reads end early with 0, as Arduino's File::read reports an error.
  bool reads_fail = false;
  // remove() fails (after spending its unit, so a loop that retries it runs into an armed cut).
  bool removes_fail = false;
  uint32_t ops = 0;

  void reboot() {
    crashed = false;
    budget = -1;
    open_.clear();
  }

  int open(const char* path, lifelog::OpenMode mode) override;
  int32_t read(int fd, uint8_t* buf, size_t len) override;
  int32_t write(int fd, const uint8_t* buf, size_t len) override;
  bool flush(int fd) override;
  bool close(int fd) override;
  bool exists(const char* path) override;
  int64_t file_size(const char* path) override;
  bool remove(const char* path) override;
  bool rename(const char* from, const char* to) override;
  bool make_dir(const char* path) override;
  bool remove_dir(const char* path) override;
  bool list_dir(const char* dir, lifelog::DirVisitor& visitor) override;
  uint64_t free_bytes() override;

  bool exists(const std::string& path) { return exists(path.c_str()); }
  std::string text(const std::string& path) const {
    auto it = files.find(path);
    return it == files.end() ? std::string() : std::string(it->second.begin(), it->second.end());
  }

 private:
  bool spend_metadata();
  struct Handle {
    std::string path;
    size_t pos;
    bool writable;
  };
  std::map<int, Handle> open_;
  int next_fd_ = 3;
};
