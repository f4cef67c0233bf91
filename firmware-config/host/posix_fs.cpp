#include "posix_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

using lifelog::OpenMode;

std::string PosixFileSystem::full(const char* path) const {
  std::string p = root_;
  if (path[0] != '/') p += '/';
  p += path;
  return p;
}

void PosixFileSystem::sync_parent(const std::string& full_path) {
  if (!durable_) return;
  std::string dir = full_path.substr(0, full_path.rfind('/'));
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    fsync(fd);
    ::close(fd);
  }
}

int PosixFileSystem::open(const char* path, OpenMode mode) {
  std::string p = full(path);
  int flags = mode == OpenMode::Read ? O_RDONLY : (O_WRONLY | O_CREAT | O_TRUNC);
  int fd = ::open(p.c_str(), flags | O_CLOEXEC, 0644);
  return fd >= 0 ? fd : kNoFile;
}

int32_t PosixFileSystem::read(int fd, uint8_t* buf, size_t len) {
  for (;;) {
    ssize_t n = ::read(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    return int32_t(n);
  }
}

int32_t PosixFileSystem::write(int fd, const uint8_t* buf, size_t len) {
  if (capacity_ > 0) {
    uint64_t room = free_bytes();
    if (room == 0) return -1;
    if (len > room) len = size_t(room);
  }
  for (;;) {
    ssize_t n = ::write(fd, buf, len);
    if (n < 0 && errno == EINTR) continue;
    return int32_t(n);
  }
}

bool PosixFileSystem::flush(int fd) { return !durable_ || fsync(fd) == 0; }
bool PosixFileSystem::close(int fd) { return ::close(fd) == 0; }

bool PosixFileSystem::exists(const char* path) {
  struct stat st;
  return ::stat(full(path).c_str(), &st) == 0;
}

int64_t PosixFileSystem::open_size(int fd) {
  struct stat st;
  return fstat(fd, &st) == 0 ? int64_t(st.st_size) : -1;
}

int64_t PosixFileSystem::file_size(const char* path) {
  struct stat st;
  if (::stat(full(path).c_str(), &st) != 0) return -1;
  return int64_t(st.st_size);
}

bool PosixFileSystem::remove(const char* path) {
  std::string p = full(path);
  if (::unlink(p.c_str()) != 0) return false;
  sync_parent(p);
  return true;
}

bool PosixFileSystem::rename(const char* from, const char* to) {
  if (exists(to)) return false;  // FAT cannot replace atomically; callers must not rely on it
  std::string f = full(from), t = full(to);
  if (::rename(f.c_str(), t.c_str()) != 0) return false;
  sync_parent(t);
  return true;
}

bool PosixFileSystem::make_dir(const char* path) {
  std::string p = full(path);
  if (::mkdir(p.c_str(), 0755) == 0) {
    sync_parent(p);
    return true;
  }
  return errno == EEXIST;
}

bool PosixFileSystem::remove_dir(const char* path) {
  std::string p = full(path);
  if (::rmdir(p.c_str()) != 0) return false;
  sync_parent(p);
  return true;
}

bool PosixFileSystem::list_dir(const char* dir, lifelog::DirVisitor& visitor) {
  DIR* d = ::opendir(full(dir).c_str());
  if (!d) return false;
  std::vector<std::pair<std::string, bool>> names;
  std::string base = full(dir) + "/";
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    bool is_dir = e->d_type == DT_DIR;
    if (e->d_type == DT_UNKNOWN) {
      struct stat st;
      is_dir = ::stat((base + e->d_name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
    }
    names.emplace_back(e->d_name, is_dir);
  }
  ::closedir(d);
  for (const auto& n : names) {
    if (!visitor.on_entry(n.first.c_str(), n.second)) break;
  }
  return true;
}

uint64_t PosixFileSystem::used_bytes(const std::string& dir) {
  uint64_t total = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return 0;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    std::string p = dir + "/" + e->d_name;
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      total += used_bytes(p);
    } else if (S_ISREG(st.st_mode)) {
      total += uint64_t(st.st_size);
    }
  }
  ::closedir(d);
  return total;
}

uint64_t PosixFileSystem::free_bytes() {
  if (capacity_ > 0) {
    uint64_t used = used_bytes(root_);
    return used >= capacity_ ? 0 : capacity_ - used;
  }
  struct statvfs vfs;
  if (::statvfs(root_.c_str(), &vfs) != 0) return 0;
  return uint64_t(vfs.f_bavail) * uint64_t(vfs.f_frsize);
}
