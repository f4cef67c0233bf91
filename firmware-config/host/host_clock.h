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

// Simulated time for long runs (a week offline in minutes): time moves only when the camera
// sleeps, by exactly as long as it sleeps. The wall clock starts at wall_start_s and counts as
// synced from ntp_after_ms on (-1: never).
class SimClock : public lifelog::Clock {
 public:
  SimClock(int64_t wall_start_s, int64_t ntp_after_ms) : wall_start_s_(wall_start_s), ntp_after_ms_(ntp_after_ms) {}
  uint64_t monotonic_ms() override { return now_ms_; }
  int64_t wall_utc_s() override {
    return wall_synced() ? wall_start_s_ + int64_t(now_ms_ / 1000) : int64_t(now_ms_ / 1000);
  }
  bool wall_synced() override { return ntp_after_ms_ >= 0 && now_ms_ >= uint64_t(ntp_after_ms_); }
  void sleep_ms(uint64_t ms) { now_ms_ += ms; }

 private:
  int64_t wall_start_s_;
  int64_t ntp_after_ms_;
  uint64_t now_ms_ = 0;
};
