#pragma once
#include <cstdint>

#include "rng.h"

namespace lifelog {

// Cameras that come online together (an office whose Wi-Fi comes back, a house after a power
// cut) would all call the server in the same second. Each time the link comes up (the first
// time after boot included) the first API call waits a uniform pick in [0, spread_ms], drawn
// from the device's own jitter source, so a fleet spreads itself. Capturing goes on meanwhile;
// later calls (retries, Retry-After) are the uploader's.
class FirstContactSpread {
 public:
  FirstContactSpread(Rng& jitter, uint32_t spread_ms) : jitter_(jitter), spread_ms_(spread_ms) {}

  // Every turn, with whether the link is up now: may API calls go out?
  bool may_call(bool online, uint64_t now_ms);
  // While waiting: when calls may start (0 when not waiting).
  uint64_t ready_at_ms() const { return waiting_ ? ready_at_ms_ : 0; }
  bool waiting() const { return waiting_; }

 private:
  Rng& jitter_;
  uint32_t spread_ms_;
  bool was_online_ = false;
  bool waiting_ = false;
  uint64_t ready_at_ms_ = 0;
};

}  // namespace lifelog
