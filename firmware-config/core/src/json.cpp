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

namespace {

void skip_space(const char* t, size_t len, size_t* i) {
  while (*i < len && (t[*i] == ' ' || t[*i] == '\t' || t[*i] == '\n' || t[*i] == '\r')) ++*i;
}

// Past one value starting at *i (strings and nesting followed, literals taken as they come).
bool skip_value(const char* t, size_t len, size_t* i) {
  if (*i >= len) return false;
  char c = t[*i];
  if (c != '"' && c != '{' && c != '[') {
    size_t start = *i;
    while (*i < len && !strchr(",}] \t\r\n", t[*i])) ++*i;
    return *i > start;
  }
  size_t depth = 0;
  bool in_string = false;
  for (; *i < len; ++*i) {
    c = t[*i];
    if (in_string) {
      if (c == '\\') {
        ++*i;  // the escaped character
        continue;
      }
      if (c != '"') continue;
      in_string = false;
      if (depth > 0) continue;
      ++*i;  // a string value ends at its closing quote
      return true;
    }
    if (c == '"') in_string = true;
    else if (c == '{' || c == '[') ++depth;
    else if (c == '}' || c == ']') {
      if (depth == 0) return false;
      if (--depth == 0) {
        ++*i;
        return true;
      }
    }
  }
  return false;
}

}  // namespace

int json_array_spans(const char* t, size_t len, const char* key, JsonSpan* out, size_t cap) {
  size_t i = 0;
  size_t key_len = strlen(key);
  int found = -1;
  skip_space(t, len, &i);
  if (i >= len || t[i] != '{') return -1;
  ++i;
  for (bool first = true;; first = false) {
    skip_space(t, len, &i);
    if (i < len && t[i] == '}' && first) return found;
    size_t name_at = i;
    if (i >= len || t[i] != '"' || !skip_value(t, len, &i)) return -1;
    bool wanted = i - name_at == key_len + 2 && memcmp(t + name_at + 1, key, key_len) == 0;
    skip_space(t, len, &i);
    if (i >= len || t[i] != ':') return -1;
    ++i;
    skip_space(t, len, &i);
    if (wanted && i < len && t[i] == '[') {
      found = 0;
      ++i;
      skip_space(t, len, &i);
      if (i < len && t[i] == ']') {
        ++i;
      } else {
        for (;;) {
          size_t at = i;
          if (!skip_value(t, len, &i) || size_t(found) == cap) return -1;
          out[found].at = at;
          out[found].len = i - at;
          ++found;
          skip_space(t, len, &i);
          if (i < len && t[i] == ',') {
            ++i;
            skip_space(t, len, &i);
            continue;
          }
          if (i < len && t[i] == ']') break;
          return -1;
        }
        ++i;
      }
    } else if (!skip_value(t, len, &i)) {
      return -1;
    }
    skip_space(t, len, &i);
    if (i < len && t[i] == ',') {
      ++i;
      continue;
    }
    if (i < len && t[i] == '}') return found;
    return -1;
  }
}

bool copy_bounded(char* dst, size_t cap, const char* src) {
  if (!src) return false;
  size_t n = strlen(src);
  if (n >= cap) return false;
  memcpy(dst, src, n + 1);
  return true;
}

}  // namespace lifelog
