#include "support/mem_kv.h"

#include <cstdlib>
#include <cstring>

bool MemKv::put(const char* key, const std::string& value) {
  if (crashed) return false;
  ++puts;
  if (puts_until_cut == 0) {
    crashed = true;
    if (cut_lands) values[key] = value;
    return false;
  }
  if (puts_until_cut > 0) --puts_until_cut;
  values[key] = value;
  return true;
}

bool MemKv::get_str(const char* key, char* out, size_t cap) {
  auto it = values.find(key);
  if (crashed || it == values.end() || it->second.size() + 1 > cap) return false;
  memcpy(out, it->second.c_str(), it->second.size() + 1);
  return true;
}

bool MemKv::put_str(const char* key, const char* value) { return put(key, value); }

bool MemKv::get_u32(const char* key, uint32_t* out) {
  uint64_t v;
  if (!get_u64(key, &v) || v > UINT32_MAX) return false;
  *out = uint32_t(v);
  return true;
}

bool MemKv::put_u32(const char* key, uint32_t value) { return put(key, std::to_string(value)); }

bool MemKv::get_u64(const char* key, uint64_t* out) {
  auto it = values.find(key);
  if (crashed || it == values.end()) return false;
  *out = strtoull(it->second.c_str(), nullptr, 10);
  return true;
}

bool MemKv::put_u64(const char* key, uint64_t value) { return put(key, std::to_string(value)); }

bool MemKv::erase(const char* key) {
  if (crashed) return false;
  values.erase(key);
  return true;
}
