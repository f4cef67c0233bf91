#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "lifelog/kv_store.h"

// NVS stand-in. A cut can be armed to hit during the n-th put; that put then lands or not
// (chosen by the test), as NVS guarantees per-entry atomicity, and everything after fails.
class MemKv : public lifelog::KeyValueStore {
 public:
  std::map<std::string, std::string> values;
  int64_t puts_until_cut = -1;
  bool cut_lands = false;
  bool crashed = false;
  uint32_t puts = 0;

  void reboot() {
    crashed = false;
    puts_until_cut = -1;
  }

  bool get_str(const char* key, char* out, size_t cap) override;
  bool put_str(const char* key, const char* value) override;
  bool get_u32(const char* key, uint32_t* out) override;
  bool put_u32(const char* key, uint32_t value) override;
  bool get_u64(const char* key, uint64_t* out) override;
  bool put_u64(const char* key, uint64_t value) override;
  bool erase(const char* key) override;

 private:
  bool put(const char* key, const std::string& value);
};
