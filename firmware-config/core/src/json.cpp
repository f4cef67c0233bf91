#include "lifelog/json.h"

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

}  // namespace lifelog
