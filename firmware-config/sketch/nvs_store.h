#pragma once
// lifelog::KeyValueStore over Preferences (NVS namespace "lifelog"). NVS commits each put
// atomically, which is what the core's seq reservation relies on.
#include <Preferences.h>

#include "lifelog_core.h"

class NvsStore : public lifelog::KeyValueStore {
 public:
  static constexpr const char* kNamespace = "lifelog";
  bool begin();  // false when the NVS partition cannot be opened
  bool get_str(const char* key, char* out, size_t cap) override;
  bool put_str(const char* key, const char* value) override;
  bool get_u32(const char* key, uint32_t* out) override;
  bool put_u32(const char* key, uint32_t value) override;
  bool get_u64(const char* key, uint64_t* out) override;
  bool put_u64(const char* key, uint64_t value) override;
  bool erase(const char* key) override;  // true when the key is gone afterwards

 private:
  Preferences prefs_;
  bool open_ = false;
};
