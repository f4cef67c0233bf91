#pragma once
#include <cstdint>

namespace lifelog {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since boot; never goes backwards.
  virtual uint64_t monotonic_ms() = 0;
  // Seconds since the Unix epoch, UTC. Meaningless unless wall_synced().
  virtual int64_t wall_utc_s() = 0;
  // True once the wall clock has been set from NTP (or another trusted source) this boot.
  virtual bool wall_synced() = 0;
};

}  // namespace lifelog
