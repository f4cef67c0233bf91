#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

enum class OpenMode : uint8_t { Read, Write /* create or truncate */ };

class DirVisitor {
 public:
  virtual ~DirVisitor() = default;
  // Called with the bare entry name (no directory) for files and folders alike.
  // Return false to stop early. The folder must not be changed while it is listed.
  virtual bool on_entry(const char* name, bool is_dir) = 0;
};

// A FAT-like card. Paths are absolute ("/queue/x.jpg"). rename() must fail when the
// target exists, as on FAT; callers remove the target first. On the board every call that
// takes a path resolves it from the root, scanning each folder from its first entry
// (tests/support/fat_card.h models that cost), so callers keep folders small and avoid
// lookups whose answer they already know.
class FileSystem {
 public:
  static constexpr int kNoFile = -1;
  virtual ~FileSystem() = default;
  virtual int open(const char* path, OpenMode mode) = 0;       // handle >= 0 or kNoFile
  virtual int32_t read(int fd, uint8_t* buf, size_t len) = 0;  // >0 bytes, 0 end, <0 error
  virtual int32_t write(int fd, const uint8_t* buf, size_t len) = 0;  // bytes written, <0 error
  virtual bool flush(int fd) = 0;
  virtual bool close(int fd) = 0;
  virtual bool exists(const char* path) = 0;
  virtual int64_t file_size(const char* path) = 0;  // -1 when missing
  // The size of an open file as its open found it, without another lookup (on the board
  // File::size() of a file not written to answers from the stat its open made); -1: unknown,
  // ask file_size().
  virtual int64_t open_size(int fd) {
    (void)fd;
    return -1;
  }
  virtual bool remove(const char* path) = 0;
  virtual bool rename(const char* from, const char* to) = 0;
  virtual bool make_dir(const char* path) = 0;  // true if it exists afterwards
  virtual bool remove_dir(const char* path) = 0;  // only an empty folder; false otherwise
  // Lists names only (getNextFileName on the board), never opening the entries.
  virtual bool list_dir(const char* dir, DirVisitor& visitor) = 0;
  virtual uint64_t free_bytes() = 0;
};

// Closes the handle on every exit path.
class ScopedFile {
 public:
  ScopedFile(FileSystem& fs, const char* path, OpenMode mode) : fs_(fs), fd_(fs.open(path, mode)) {}
  ~ScopedFile() { close(); }
  ScopedFile(const ScopedFile&) = delete;
  ScopedFile& operator=(const ScopedFile&) = delete;
  bool ok() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  bool close() {
    if (fd_ < 0) return true;
    bool ok = fs_.close(fd_);
    fd_ = FileSystem::kNoFile;
    return ok;
  }

 private:
  FileSystem& fs_;
  int fd_;
};

}  // namespace lifelog
