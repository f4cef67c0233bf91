// DECLARATIONS ONLY (arduino-esp32 libraries/Preferences/src/Preferences.h); see README.md.
#pragma once
#include "Arduino.h"

typedef enum { PT_I8, PT_U8, PT_I16, PT_U16, PT_I32, PT_U32, PT_I64, PT_U64, PT_STR, PT_BLOB, PT_INVALID } PreferenceType;

class Preferences {
 public:
  bool begin(const char* name, bool readOnly = false, const char* partition_label = NULL);
  void end();
  bool remove(const char* key);
  size_t putUInt(const char* key, uint32_t value);
  size_t putULong64(const char* key, uint64_t value);
  size_t putString(const char* key, const char* value);
  bool isKey(const char* key);
  PreferenceType getType(const char* key);
  uint32_t getUInt(const char* key, uint32_t defaultValue = 0);
  uint64_t getULong64(const char* key, uint64_t defaultValue = 0);
  size_t getString(const char* key, char* value, size_t maxLen);
  size_t getStringLength(const char* key);
};
