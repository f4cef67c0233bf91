#include "file_kv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

bool FileKeyValueStore::load() {
  values_.clear();
  std::ifstream in(path_);
  if (!in) return errno == ENOENT;
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    values_[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return true;
}

bool FileKeyValueStore::save(const std::map<std::string, std::string>& values) {
  std::string text;
  for (const auto& kv : values) text += kv.first + "\t" + kv.second + "\n";
  std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);  // holds the token
  if (fd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    done += size_t(n);
  }
  bool ok = fsync(fd) == 0;
  ok = (::close(fd) == 0) && ok;
  if (!ok || ::rename(tmp.c_str(), path_.c_str()) != 0) return false;
  std::string dir = path_.find('/') == std::string::npos ? "." : path_.substr(0, path_.rfind('/'));
  if (dir.empty()) dir = "/";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    ::close(dfd);
  }
  return true;
}

bool FileKeyValueStore::put(const std::string& key, const std::string& value) {
  if (key.find_first_of("\t\n") != std::string::npos || value.find('\n') != std::string::npos) return false;
  std::map<std::string, std::string> next = values_;
  next[key] = value;
  if (!save(next)) return false;
  values_.swap(next);
  return true;
}

bool FileKeyValueStore::get_str(const char* key, char* out, size_t cap) {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.size() + 1 > cap) return false;
  memcpy(out, it->second.c_str(), it->second.size() + 1);
  return true;
}

bool FileKeyValueStore::put_str(const char* key, const char* value) { return put(key, value); }

bool FileKeyValueStore::get_u64(const char* key, uint64_t* out) {
  auto it = values_.find(key);
  if (it == values_.end() || it->second.empty()) return false;
  char* end = nullptr;
  unsigned long long v = strtoull(it->second.c_str(), &end, 10);
  if (*end != '\0') return false;
  *out = v;
  return true;
}

bool FileKeyValueStore::get_u32(const char* key, uint32_t* out) {
  uint64_t v;
  if (!get_u64(key, &v) || v > 0xFFFFFFFFull) return false;
  *out = uint32_t(v);
  return true;
}

bool FileKeyValueStore::put_u32(const char* key, uint32_t value) { return put(key, std::to_string(value)); }
bool FileKeyValueStore::put_u64(const char* key, uint64_t value) { return put(key, std::to_string(value)); }

bool FileKeyValueStore::erase(const char* key) {
  std::map<std::string, std::string> next = values_;
  if (!next.erase(key)) return true;
  if (!save(next)) return false;
  values_.swap(next);
  return true;
}
