#pragma once
#include <map>
#include <string>

#include "lifelog/kv_store.h"

// NVS stand-in: one small text file, rewritten whole on each put via tmp + fsync + rename,
// so a kill at any instant leaves the old or the new contents.
class FileKeyValueStore : public lifelog::KeyValueStore {
 public:
  explicit FileKeyValueStore(std::string path) : path_(std::move(path)) {}
  bool load();  // false only if the file exists but cannot be read

  bool get_str(const char* key, char* out, size_t cap) override;
  bool put_str(const char* key, const char* value) override;
  bool get_u32(const char* key, uint32_t* out) override;
  bool put_u32(const char* key, uint32_t value) override;
  bool get_u64(const char* key, uint64_t* out) override;
  bool put_u64(const char* key, uint64_t value) override;
  bool erase(const char* key) override;

 private:
  bool put(const std::string& key, const std::string& value);
  bool save(const std::map<std::string, std::string>& values);
  std::string path_;
  std::map<std::string, std::string> values_;
};
