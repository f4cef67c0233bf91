#include "file_ota.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <vector>

FileBootState::FileBootState(std::string dir) : dir_(std::move(dir)), kv_(dir_ + "/boot.kv") {}

std::string FileBootState::slot_path(int slot) const { return dir_ + "/slot" + std::to_string(slot) + ".bin"; }

bool FileBootState::save() {
  return kv_.put_u32("running", uint32_t(running_)) && kv_.put_u32("next", next_ < 0 ? 2u : uint32_t(next_)) &&
         kv_.put_u32("pending", pending_ ? 1u : 0u);
}

bool FileBootState::power_on() {
  if (!kv_.load()) return false;
  uint32_t running = 0, next = 2, pending = 0;
  kv_.get_u32("running", &running);
  kv_.get_u32("next", &next);
  kv_.get_u32("pending", &pending);
  running_ = running == 1 ? 1 : 0;
  next_ = next < 2 ? int(next) : -1;
  pending_ = pending == 1;
  if (pending_) {  // never confirmed: the previous image boots
    running_ = 1 - running_;
    pending_ = false;
  } else if (next_ >= 0) {
    running_ = next_;
    pending_ = true;
  }
  next_ = -1;
  return save();
}

bool FileBootState::confirm() {
  pending_ = false;
  return save();
}

void FileBootState::rollback_and_reboot() {
  pending_ = true;  // the next power_on goes back
  save();
  if (on_reboot) on_reboot();
}

bool FileBootState::boot_next(int slot) {
  next_ = slot;
  return save();
}

namespace {

bool read_at(const std::string& path, uint32_t offset, uint8_t* data, size_t len) {
  int fd = open(path.c_str(), O_RDONLY);
  if (fd < 0) {
    memset(data, 0xFF, len);  // never written: erased flash
    return true;
  }
  ssize_t n = pread(fd, data, len, off_t(offset));
  close(fd);
  if (n < 0) return false;
  if (size_t(n) < len) memset(data + n, 0xFF, len - size_t(n));
  return true;
}

bool write_at(const std::string& path, uint32_t offset, const uint8_t* data, size_t len) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd < 0) return false;
  ssize_t n = pwrite(fd, data, len, off_t(offset));
  bool ok = n == ssize_t(len) && fsync(fd) == 0;
  close(fd);
  return ok;
}

}  // namespace

bool FileUpdatePartition::erase_sector(uint32_t offset) {
  if (offset % kSectorSize || offset >= capacity_) return false;
  std::vector<uint8_t> ones(kSectorSize, 0xFF);
  return write_at(path(), offset, ones.data(), ones.size());
}

bool FileUpdatePartition::write(uint32_t offset, const uint8_t* data, size_t len) {
  if (uint64_t(offset) + len > capacity_) return false;
  std::vector<uint8_t> cur(len);
  if (!read_at(path(), offset, cur.data(), len)) return false;
  for (size_t i = 0; i < len; ++i) cur[i] &= data[i];  // NOR flash: a write only clears bits
  return write_at(path(), offset, cur.data(), len);
}

bool FileUpdatePartition::read(uint32_t offset, uint8_t* data, size_t len) {
  if (uint64_t(offset) + len > capacity_) return false;
  return read_at(path(), offset, data, len);
}
