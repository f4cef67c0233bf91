#include "lifelog/utc_time.h"

#include <cstdio>

namespace lifelog {
namespace {

int64_t floor_div(int64_t a, int64_t b) { return (a >= 0) ? a / b : -((-a + b - 1) / b); }

// Days since 1970-01-01 for a proleptic Gregorian date, using 400-year eras that start in March.
int64_t days_from_date(int64_t y, unsigned m, unsigned d) {
  y -= (m <= 2) ? 1 : 0;
  int64_t era = floor_div(y, 400);
  unsigned year_of_era = unsigned(y - era * 400);
  unsigned month_from_march = (m + 9) % 12;
  unsigned day_of_year = (153 * month_from_march + 2) / 5 + d - 1;
  unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + int64_t(day_of_era) - 719468;
}

}  // namespace

CivilTime civil_from_unix(int64_t unix_s) {
  int64_t days = floor_div(unix_s, 86400);
  int64_t secs = unix_s - days * 86400;
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  unsigned day_of_era = unsigned(z - era * 146097);
  unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  unsigned month_from_march = (5 * day_of_year + 2) / 153;
  CivilTime t;
  t.day = uint8_t(day_of_year - (153 * month_from_march + 2) / 5 + 1);
  t.month = uint8_t(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
  t.year = int32_t(int64_t(year_of_era) + era * 400 + (t.month <= 2 ? 1 : 0));
  t.hour = uint8_t(secs / 3600);
  t.minute = uint8_t((secs % 3600) / 60);
  t.second = uint8_t(secs % 60);
  return t;
}

int64_t unix_from_civil(const CivilTime& t) {
  return days_from_date(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

static bool format_with(int64_t unix_s, char sep, char* out, size_t cap) {
  CivilTime t = civil_from_unix(unix_s);
  if (t.year < 0 || t.year > 9999) return false;
  int n = snprintf(out, cap, "%04d-%02u-%02uT%02u%c%02u%c%02uZ", int(t.year), unsigned(t.month),
                   unsigned(t.day), unsigned(t.hour), sep, unsigned(t.minute), sep, unsigned(t.second));
  return n > 0 && size_t(n) < cap;
}

bool format_iso8601_utc(int64_t unix_s, char* out, size_t cap) { return format_with(unix_s, ':', out, cap); }
bool format_file_stamp(int64_t unix_s, char* out, size_t cap) { return format_with(unix_s, '-', out, cap); }

}  // namespace lifelog
