#include "lifelog/json.h"

#include <cstring>

namespace lifelog {

const char* json_string(const cJSON* obj, const char* key) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(item) ? item->valuestring : nullptr;
}

bool json_number(const cJSON* obj, const char* key, double* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(item)) return false;
  *out = item->valuedouble;
  return true;
}

bool json_bool(const cJSON* obj, const char* key, bool* out) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsBool(item)) return false;
  *out = cJSON_IsTrue(item);
  return true;
}

bool copy_bounded(char* dst, size_t cap, const char* src) {
  if (!src) return false;
  size_t n = strlen(src);
  if (n >= cap) return false;
  memcpy(dst, src, n + 1);
  return true;
}

}  // namespace lifelog
