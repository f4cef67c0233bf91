#pragma once
#include <cstdint>

namespace lifelog {

// The longest wait a server may impose through Retry-After. Longer values are cut to this so a
// mistaken or hostile header cannot park the camera for days; an hour is still far above the
// waits this API sends (rate-limit windows of at most 10 minutes).
constexpr uint32_t kMaxRetryAfterS = 3600;

// Retry-After is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
struct RetryAfter {
  int64_t delay_s = -1;     // delay-seconds form, -1 when absent
  int64_t at_unix_s = -1;   // HTTP-date form, -1 when absent
  bool present() const { return delay_s >= 0 || at_unix_s >= 0; }
};

// The three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7): IMF-fixdate
// "Sun, 06 Nov 1994 08:49:37 GMT", RFC 850 "Sunday, 06-Nov-94 08:49:37 GMT" and asctime
// "Sun Nov  6 08:49:37 1994". False for anything else.
bool parse_http_date(const char* text, int64_t* unix_s);
bool parse_retry_after(const char* value, RetryAfter* out);

// How long to wait, in ms, bounded to [0, kMaxRetryAfterS]. A date is measured against the
// answer's own Date header when it has one (no clock needed), else against the device's wall
// clock when that is set (wall_now_s >= 0). -1 when nothing usable was given.
int64_t retry_after_wait_ms(const RetryAfter& ra, int64_t server_date_s, int64_t wall_now_s);

}  // namespace lifelog
