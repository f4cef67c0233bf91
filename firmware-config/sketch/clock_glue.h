#pragma once
// lifelog::Clock for the ESP32: monotonic time from esp_timer, wall time from time(), and
// "synced" only after SNTP has actually set the clock this boot (reported by its callback).
#include "lifelog_core.h"

class DeviceClock : public lifelog::Clock {
 public:
  // Registers the SNTP callback; call once in setup().
  void begin();
  // Starts SNTP against pool.ntp.org with the POSIX TZ string (only local-time display uses
  // the zone; the core works in UTC). Call once Wi-Fi is up; later calls do nothing.
  void start_sntp(const char* posix_tz);
  bool sntp_started() const { return sntp_started_; }

  uint64_t monotonic_ms() override;
  int64_t wall_utc_s() override;
  bool wall_synced() override;

 private:
  bool sntp_started_ = false;
};
