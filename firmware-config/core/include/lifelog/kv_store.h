#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

// NVS-like store. Each put is atomic: after a power cut the key holds the old or the new value.
class KeyValueStore {
 public:
  virtual ~KeyValueStore() = default;
  // False when missing or when the value (plus NUL) does not fit in cap.
  virtual bool get_str(const char* key, char* out, size_t cap) = 0;
  virtual bool put_str(const char* key, const char* value) = 0;
  virtual bool get_u32(const char* key, uint32_t* out) = 0;
  virtual bool put_u32(const char* key, uint32_t value) = 0;
  virtual bool get_u64(const char* key, uint64_t* out) = 0;
  virtual bool put_u64(const char* key, uint64_t value) = 0;
  virtual bool erase(const char* key) = 0;
};

}  // namespace lifelog
