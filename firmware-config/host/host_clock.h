#pragma once
#include <cstdint>

#include "lifelog/clock.h"

// Real time, optionally pretending NTP only answers after a while (to exercise time
// correction). Before that, the wall clock reads like an unset device clock (seconds since boot).
class HostClock : public lifelog::Clock {
 public:
  explicit HostClock(int64_t ntp_after_ms = 0);
  uint64_t monotonic_ms() override;
  int64_t wall_utc_s() override;
  bool wall_synced() override;
  static void sleep_ms(uint64_t ms);

 private:
  uint64_t start_ms_;
  int64_t ntp_after_ms_;
};
