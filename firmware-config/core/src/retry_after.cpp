#include "lifelog/retry_after.h"

#include <cstring>

#include "lifelog/utc_time.h"

namespace lifelog {
namespace {

const char* const kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Exactly `n` digits.
bool take_number(const char*& p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    if (!is_digit(p[i])) return false;
    v = v * 10 + (p[i] - '0');
  }
  p += n;
  *out = v;
  return true;
}

bool take_literal(const char*& p, const char* lit) {
  size_t n = strlen(lit);
  if (strncmp(p, lit, n) != 0) return false;
  p += n;
  return true;
}

bool take_month(const char*& p, int* month) {
  for (int i = 0; i < 12; ++i) {
    if (strncmp(p, kMonths[i], 3) == 0) {
      *month = i + 1;
      p += 3;
      return true;
    }
  }
  return false;
}

// "08:49:37"
bool take_clock(const char*& p, CivilTime* t) {
  int h, m, s;
  if (!take_number(p, 2, &h) || !take_literal(p, ":") || !take_number(p, 2, &m) || !take_literal(p, ":") ||
      !take_number(p, 2, &s)) {
    return false;
  }
  if (h > 23 || m > 59 || s > 60) return false;  // 60: a leap second is a valid second-of-minute
  t->hour = uint8_t(h);
  t->minute = uint8_t(m);
  t->second = uint8_t(s == 60 ? 59 : s);
  return true;
}

bool valid_day(const CivilTime& t) {
  static const uint8_t kDays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return t.day >= 1 && t.month >= 1 && t.month <= 12 && t.day <= kDays[t.month - 1];
}

bool finish(const char* p, const CivilTime& t, int64_t* unix_s) {
  while (*p == ' ' || *p == '\t') ++p;
  if (*p || !valid_day(t)) return false;
  *unix_s = unix_from_civil(t);
  return true;
}

}  // namespace

bool parse_http_date(const char* text, int64_t* unix_s) {
  const char* p = text;
  while (*p == ' ' || *p == '\t') ++p;
  const char* comma = strchr(p, ',');
  CivilTime t{};
  int day, month, year;
  if (comma && comma - p == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    p = comma + 1;
    if (!take_literal(p, " ") || !take_number(p, 2, &day) || !take_literal(p, " ") || !take_month(p, &month) ||
        !take_literal(p, " ") || !take_number(p, 4, &year) || !take_literal(p, " ") || !take_clock(p, &t) ||
        !take_literal(p, " GMT")) {
      return false;
    }
  } else if (comma) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year that looks more than 50
    // years in the future is in the past (RFC 9110 §5.6.7), read here as 1970-2069.
    p = comma + 1;
    if (!take_literal(p, " ") || !take_number(p, 2, &day) || !take_literal(p, "-") || !take_month(p, &month) ||
        !take_literal(p, "-") || !take_number(p, 2, &year) || !take_literal(p, " ") || !take_clock(p, &t) ||
        !take_literal(p, " GMT")) {
      return false;
    }
    year += year < 70 ? 2000 : 1900;
  } else {
    // asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space)
    if (strlen(p) < 3) return false;
    p += 3;
    if (!take_literal(p, " ") || !take_month(p, &month) || !take_literal(p, " ")) return false;
    if (*p == ' ') {
      ++p;
      if (!take_number(p, 1, &day)) return false;
    } else if (!take_number(p, 2, &day)) {
      return false;
    }
    if (!take_literal(p, " ") || !take_clock(p, &t) || !take_literal(p, " ") || !take_number(p, 4, &year)) {
      return false;
    }
  }
  t.year = year;
  t.month = uint8_t(month);
  t.day = uint8_t(day);
  return finish(p, t, unix_s);
}

bool parse_retry_after(const char* value, RetryAfter* out) {
  *out = RetryAfter();
  const char* p = value;
  while (*p == ' ' || *p == '\t') ++p;
  if (is_digit(*p)) {
    int64_t v = 0;
    for (; is_digit(*p); ++p) {
      if (v < int64_t(kMaxRetryAfterS) * 10) v = v * 10 + (*p - '0');  // saturates far above the cap
    }
    while (*p == ' ' || *p == '\t') ++p;
    if (*p) return false;
    out->delay_s = v;
    return true;
  }
  int64_t at;
  if (!parse_http_date(p, &at)) return false;
  out->at_unix_s = at;
  return true;
}

int64_t retry_after_wait_ms(const RetryAfter& ra, int64_t server_date_s, int64_t wall_now_s) {
  int64_t wait_s;
  if (ra.delay_s >= 0) {
    wait_s = ra.delay_s;
  } else if (ra.at_unix_s >= 0 && server_date_s >= 0) {
    wait_s = ra.at_unix_s - server_date_s;  // both from the server's clock
  } else if (ra.at_unix_s >= 0 && wall_now_s >= 0) {
    // Two clocks that tick apart at whole-second resolution: one second more keeps the retry
    // from landing just before the instant the server named.
    wait_s = ra.at_unix_s - wall_now_s + 1;
  } else {
    return -1;
  }
  if (wait_s < 0) wait_s = 0;  // a date already past: retry now
  if (wait_s > int64_t(kMaxRetryAfterS)) wait_s = kMaxRetryAfterS;
  return wait_s * 1000;
}

}  // namespace lifelog
