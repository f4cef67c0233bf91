#include "read_fault_fs.h"

bool ReadFaultFs::remount() {
  ++remounts_;
  if (armed_ && mounts_to_clear_ > 0 && --mounts_to_clear_ == 0) armed_ = false;
  return true;
}

int ReadFaultFs::open(const char* path, lifelog::OpenMode mode) {
  int fd = inner_.open(path, mode);
  if (fd >= 0 && fd < kMaxFiles) {
    pos_[fd] = 0;
    faulty_[fd] = mode == lifelog::OpenMode::Read && armed_ && std::string(path).find(match_) != std::string::npos;
  }
  return fd;
}

int32_t ReadFaultFs::read(int fd, uint8_t* buf, size_t len) {
  bool faulty = fd >= 0 && fd < kMaxFiles && faulty_[fd] && armed_;
  if (faulty && pos_[fd] >= offset_) {
    ++failed_reads_;
    return -1;
  }
  if (faulty && pos_[fd] + len > offset_) len = size_t(offset_ - pos_[fd]);
  int32_t n = inner_.read(fd, buf, len);
  if (n > 0 && fd >= 0 && fd < kMaxFiles) pos_[fd] += uint64_t(n);
  return n;
}

bool ReadFaultFs::close(int fd) {
  if (fd >= 0 && fd < kMaxFiles) faulty_[fd] = false;
  return inner_.close(fd);
}
