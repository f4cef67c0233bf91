#pragma once
// The only place that knows where cJSON lives. On the device the Arduino-ESP32
// SDK ships it as "cJSON.h"; on a Debian host it comes from libcjson-dev.
#if defined(LIFELOG_CJSON_FLAT_INCLUDE) || defined(ARDUINO) || defined(ESP_PLATFORM)
#include "cJSON.h"
#else
#include <cjson/cJSON.h>
#endif

#include <cstddef>

namespace lifelog {

// Owns one cJSON tree and frees it when it goes out of scope.
class JsonDoc {
 public:
  explicit JsonDoc(cJSON* root = nullptr) : root_(root) {}
  ~JsonDoc() { cJSON_Delete(root_); }
  JsonDoc(const JsonDoc&) = delete;
  JsonDoc& operator=(const JsonDoc&) = delete;
  cJSON* get() const { return root_; }
  explicit operator bool() const { return root_ != nullptr; }

 private:
  cJSON* root_;
};

// Small typed readers that tolerate missing/mistyped fields.
const char* json_string(const cJSON* obj, const char* key);
bool json_number(const cJSON* obj, const char* key, double* out);
bool json_bool(const cJSON* obj, const char* key, bool* out);
// Where one value lies in a JSON text.
struct JsonSpan {
  size_t at = 0;
  size_t len = 0;
};
// The elements of the array under top-level key `key` of the object in `text`, as spans, so a
// long answer (a batch's results) can be read one element at a time instead of as one tree.
// Returns how many, or -1 when text is not such an object or the array has more than cap.
// Only the structure is checked; each element is parsed (and validated) by whoever reads it.
int json_array_spans(const char* text, size_t len, const char* key, JsonSpan* out, size_t cap);

// Copies src (with its NUL) into dst when it fits; false, dst untouched, when null or too long.
bool copy_bounded(char* dst, size_t cap, const char* src);

}  // namespace lifelog
