#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

struct CivilTime {
  int32_t year;
  uint8_t month, day, hour, minute, second;
};

CivilTime civil_from_unix(int64_t unix_s);
int64_t unix_from_civil(const CivilTime& t);

// "2025-12-26T10:15:30Z". Needs cap >= 21. False if it does not fit.
bool format_iso8601_utc(int64_t unix_s, char* out, size_t cap);
// Same instant with '-' instead of ':' so it is usable in a file name: "2025-12-26T10-15-30Z".
bool format_file_stamp(int64_t unix_s, char* out, size_t cap);

}  // namespace lifelog
