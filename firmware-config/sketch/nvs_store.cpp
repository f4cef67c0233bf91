#include "nvs_store.h"

#include <cstring>

bool NvsStore::begin() {
  if (!open_) open_ = prefs_.begin(kNamespace, false);
  return open_;
}

// isKey() first: Preferences logs an error for every read of a missing key.
bool NvsStore::get_str(const char* key, char* out, size_t cap) {
  if (!open_ || cap == 0 || !prefs_.isKey(key)) return false;
  if (prefs_.getType(key) != PT_STR) return false;
  // getString(key, buf, maxLen) returns 0 when the value plus NUL does not fit.
  return prefs_.getString(key, out, cap) > 0;
}

bool NvsStore::put_str(const char* key, const char* value) {
  if (!open_) return false;
  // putString returns strlen(value) on success and 0 on failure, so "" needs another check.
  size_t written = prefs_.putString(key, value);
  return value[0] ? written == strlen(value) : prefs_.isKey(key);
}

bool NvsStore::get_u32(const char* key, uint32_t* out) {
  if (!open_ || !prefs_.isKey(key) || prefs_.getType(key) != PT_U32) return false;
  *out = prefs_.getUInt(key, 0);
  return true;
}

bool NvsStore::put_u32(const char* key, uint32_t value) { return open_ && prefs_.putUInt(key, value) == sizeof(value); }

bool NvsStore::get_u64(const char* key, uint64_t* out) {
  if (!open_ || !prefs_.isKey(key) || prefs_.getType(key) != PT_U64) return false;
  *out = prefs_.getULong64(key, 0);
  return true;
}

bool NvsStore::put_u64(const char* key, uint64_t value) {
  return open_ && prefs_.putULong64(key, value) == sizeof(value);
}

bool NvsStore::erase(const char* key) {
  if (!open_) return false;
  return !prefs_.isKey(key) || prefs_.remove(key);
}
