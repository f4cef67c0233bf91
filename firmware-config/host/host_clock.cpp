#include "host_clock.h"

#include <time.h>

static uint64_t raw_monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec / 1000000);
}

HostClock::HostClock(int64_t ntp_after_ms) : start_ms_(raw_monotonic_ms()), ntp_after_ms_(ntp_after_ms) {}

uint64_t HostClock::monotonic_ms() { return raw_monotonic_ms() - start_ms_; }

bool HostClock::wall_synced() { return ntp_after_ms_ < 0 ? false : monotonic_ms() >= uint64_t(ntp_after_ms_); }

int64_t HostClock::wall_utc_s() {
  if (!wall_synced()) return int64_t(monotonic_ms() / 1000);
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec);
}

void HostClock::sleep_ms(uint64_t ms) {
  timespec ts{time_t(ms / 1000), long((ms % 1000) * 1000000)};
  while (nanosleep(&ts, &ts) != 0) {
  }
}
