#include "arduino_fs.h"

#include <SPI.h>

#include <cstdio>
#include <cstring>

bool ArduinoFileSystem::mount() {
  if (mounted_) return true;
  SPI.begin(kSck, kMiso, kMosi, kCs);
  // Room for the core's handles plus the directory and entry a listing opens.
  if (!SD.begin(kCs, SPI, spi_hz_, "/sd", kMaxOpenFiles + 4)) {
    SD.end();
    return false;
  }
  if (SD.cardType() == CARD_NONE) {
    SD.end();
    return false;
  }
  mounted_ = true;
  return true;
}

void ArduinoFileSystem::unmount() {
  for (size_t i = 0; i < kMaxOpenFiles; ++i) {
    if (used_[i]) files_[i].close();
    used_[i] = false;
  }
  if (mounted_) SD.end();
  mounted_ = false;
}

File* ArduinoFileSystem::slot(int fd) {
  if (fd < 0 || size_t(fd) >= kMaxOpenFiles || !used_[fd]) return nullptr;
  return &files_[fd];
}

int ArduinoFileSystem::open(const char* path, lifelog::OpenMode mode) {
  if (!mounted_) return kNoFile;
  for (size_t i = 0; i < kMaxOpenFiles; ++i) {
    if (used_[i]) continue;
    File f = SD.open(path, mode == lifelog::OpenMode::Write ? FILE_WRITE : FILE_READ);
    if (!f || f.isDirectory()) return kNoFile;
    files_[i] = f;
    used_[i] = true;
    return int(i);
  }
  return kNoFile;
}

int32_t ArduinoFileSystem::read(int fd, uint8_t* buf, size_t len) {
  File* f = slot(fd);
  if (!f) return -1;
  // File::read gives 0 both at the end and on error: read_small_file checks the length
  // against file_size(), and a photo's PUT stops when it comes up short of its size.
  return int32_t(f->read(buf, len));
}

int32_t ArduinoFileSystem::write(int fd, const uint8_t* buf, size_t len) {
  File* f = slot(fd);
  if (!f) return -1;
  size_t n = f->write(buf, len);
  return n == 0 && len > 0 ? -1 : int32_t(n);
}

bool ArduinoFileSystem::flush(int fd) {
  File* f = slot(fd);
  if (!f) return false;
  f->flush();
  return true;
}

bool ArduinoFileSystem::close(int fd) {
  File* f = slot(fd);
  if (!f) return false;
  f->close();
  used_[fd] = false;
  return true;
}

bool ArduinoFileSystem::exists(const char* path) { return mounted_ && SD.exists(path); }

int64_t ArduinoFileSystem::open_size(int fd) {
  File* f = slot(fd);
  return f ? int64_t(f->size()) : -1;  // from the stat SD.open() made (vfs_api.cpp)
}

int64_t ArduinoFileSystem::file_size(const char* path) {
  if (!mounted_) return -1;
  File f = SD.open(path, FILE_READ);
  if (!f) return -1;
  int64_t size = f.isDirectory() ? -1 : int64_t(f.size());
  f.close();
  return size;
}

bool ArduinoFileSystem::remove(const char* path) { return mounted_ && SD.remove(path); }

// Each call below resolves its path from the root, scanning every folder on the way from its
// first entry (FatFs follow_path/dir_find); SD.exists() of a missing name costs three such
// lookups (VFSFileImpl: fopen, stat, opendir). So no call here asks what the next one finds out.
bool ArduinoFileSystem::rename(const char* from, const char* to) {
  // FatFs f_rename refuses an existing target (FR_EXIST), the rule the core relies on.
  return mounted_ && SD.rename(from, to);
}

bool ArduinoFileSystem::make_dir(const char* path) {
  // VFSImpl::mkdir stats first and answers true for an existing folder.
  return mounted_ && SD.mkdir(path);
}

bool ArduinoFileSystem::remove_dir(const char* path) { return mounted_ && SD.rmdir(path); }

bool ArduinoFileSystem::list_dir(const char* dir, lifelog::DirVisitor& visitor) {
  if (!mounted_) return false;
  File root = SD.open(dir, FILE_READ);
  if (!root || !root.isDirectory()) return false;
  // getNextFileName() only reads the next entry (readdir); openNextFile() would open each
  // entry again by its path, scanning the folder from its start: O(n^2) for a listing.
  for (;;) {
    bool is_dir = false;
    String path = root.getNextFileName(&is_dir);
    if (path.length() == 0) break;
    const char* name = path.c_str();
    const char* slash = strrchr(name, '/');
    if (!visitor.on_entry(slash ? slash + 1 : name, is_dir)) break;
  }
  root.close();
  return true;
}

uint64_t ArduinoFileSystem::free_bytes() {
  if (!mounted_) return 0;
  uint64_t total = SD.totalBytes(), used = SD.usedBytes();
  return total > used ? total - used : 0;
}
