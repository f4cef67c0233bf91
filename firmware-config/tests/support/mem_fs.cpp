#include "support/heap_meter.h"
#include "support/mem_fs.h"

#include <cstring>

using lifelog::OpenMode;

bool MemFs::spend_metadata() {
  heap_meter::Untracked untracked;
  ++ops;
  if (crashed) return false;
  if (budget == 0) {
    crashed = true;
    return false;
  }
  if (budget > 0) --budget;
  return true;
}

static std::string parent_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

int MemFs::open(const char* path, OpenMode mode) {
  heap_meter::Untracked untracked;
  if (crashed) return kNoFile;
  std::string p(path);
  if (mode == OpenMode::Read) {
    if (!files.count(p)) return kNoFile;
  } else {
    if (!dirs.count(parent_of(p)) && parent_of(p) != "/") return kNoFile;
    if (!spend_metadata()) return kNoFile;
    files[p].clear();
  }
  int fd = next_fd_++;
  open_[fd] = Handle{p, 0, mode == OpenMode::Write};
  return fd;
}

int32_t MemFs::read(int fd, uint8_t* buf, size_t len) {
  heap_meter::Untracked untracked;
  if (crashed) return -1;
  auto h = open_.find(fd);
  if (h == open_.end()) return -1;
  auto f = files.find(h->second.path);
  if (f == files.end()) return -1;
  if (reads_fail) return 0;
  size_t avail = f->second.size() - h->second.pos;
  size_t n = len < avail ? len : avail;
  if (n > 0) memcpy(buf, f->second.data() + h->second.pos, n);
  h->second.pos += n;
  return int32_t(n);
}

int32_t MemFs::write(int fd, const uint8_t* buf, size_t len) {
  heap_meter::Untracked untracked;
  if (crashed) return -1;
  auto h = open_.find(fd);
  if (h == open_.end() || !h->second.writable) return -1;
  std::vector<uint8_t>& data = files[h->second.path];
  size_t allowed = len;
  if (budget >= 0 && uint64_t(budget) < len) allowed = size_t(budget);
  if (capacity != UINT64_MAX) {
    uint64_t free_now = free_bytes();
    if (free_now < allowed) allowed = size_t(free_now);
  }
  data.insert(data.end(), buf, buf + allowed);
  h->second.pos += allowed;
  if (budget >= 0) budget -= int64_t(allowed);
  if (allowed < len) {
    if (budget == 0) crashed = true;
    return allowed > 0 ? int32_t(allowed) : -1;
  }
  return int32_t(len);
}

bool MemFs::flush(int fd) {
  heap_meter::Untracked untracked;
  if (!open_.count(fd)) return false;
  return !crashed;
}

bool MemFs::close(int fd) {
  heap_meter::Untracked untracked;
  auto h = open_.find(fd);
  if (h == open_.end()) return false;
  open_.erase(h);
  return !crashed;
}

bool MemFs::exists(const char* path) { return !crashed && (files.count(path) || dirs.count(path)); }

int64_t MemFs::file_size(const char* path) {
  heap_meter::Untracked untracked;
  auto f = files.find(path);
  return (crashed || f == files.end()) ? -1 : int64_t(f->second.size());
}

bool MemFs::remove(const char* path) {
  heap_meter::Untracked untracked;
  if (crashed || !files.count(path)) return false;
  if (!spend_metadata() || removes_fail) return false;
  files.erase(path);
  return true;
}

bool MemFs::rename(const char* from, const char* to) {
  heap_meter::Untracked untracked;
  if (crashed || !files.count(from) || files.count(to)) return false;
  if (!spend_metadata()) return false;
  files[to] = std::move(files[from]);
  files.erase(from);
  return true;
}

bool MemFs::make_dir(const char* path) {
  heap_meter::Untracked untracked;
  if (crashed) return false;
  if (dirs.count(path)) return true;
  std::string parent = parent_of(path);
  if (parent != "/" && !dirs.count(parent)) return false;  // FatFs f_mkdir: FR_NO_PATH
  if (files.count(path) || !spend_metadata()) return false;
  dirs.insert(path);
  return true;
}

bool MemFs::remove_dir(const char* path) {
  heap_meter::Untracked untracked;
  if (crashed || !dirs.count(path)) return false;
  std::string prefix = std::string(path) + "/";
  auto f = files.lower_bound(prefix);
  if (f != files.end() && f->first.compare(0, prefix.size(), prefix) == 0) return false;  // not empty
  auto d = dirs.upper_bound(path);
  if (d != dirs.end() && d->compare(0, prefix.size(), prefix) == 0) return false;
  if (!spend_metadata() || removes_fail) return false;
  dirs.erase(path);
  return true;
}

bool MemFs::list_dir(const char* dir, lifelog::DirVisitor& visitor) {
  heap_meter::Untracked untracked;
  if (crashed || (!dirs.count(dir) && strcmp(dir, "/") != 0)) return false;
  std::string prefix = strcmp(dir, "/") == 0 ? std::string("/") : std::string(dir) + "/";
  std::vector<std::pair<std::string, bool>> names;
  auto direct = [&](const std::string& p) {
    return p.compare(0, prefix.size(), prefix) == 0 && p.size() > prefix.size() &&
           p.find('/', prefix.size()) == std::string::npos;
  };
  for (const auto& kv : files) {
    if (direct(kv.first)) names.emplace_back(kv.first.substr(prefix.size()), false);
  }
  for (const std::string& d : dirs) {
    if (direct(d)) names.emplace_back(d.substr(prefix.size()), true);
  }
  // Real directories are not sorted; visit in a scrambled order so nobody relies on it.
  for (size_t i = 0; i < names.size(); ++i) {
    size_t j = (i * 7919 + 13) % names.size();
    std::swap(names[i], names[j]);
  }
  for (const auto& n : names) {
    if (!visitor.on_entry(n.first.c_str(), n.second)) break;
  }
  return true;
}

uint64_t MemFs::free_bytes() {
  heap_meter::Untracked untracked;
  if (capacity == UINT64_MAX) return UINT64_MAX / 2;
  uint64_t used = 0;
  for (const auto& kv : files) used += kv.second.size();
  return used >= capacity ? 0 : capacity - used;
}
