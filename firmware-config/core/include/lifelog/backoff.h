#pragma once
#include <cstdint>

#include "rng.h"

namespace lifelog {

struct ApiResult;

struct BackoffConfig {
  uint32_t base_ms = 1000;
  uint32_t cap_ms = 5 * 60 * 1000;
};

// Upper bound of the wait before retry number `attempt` (0-based): min(cap, base * 2^attempt).
uint32_t backoff_ceiling_ms(const BackoffConfig& cfg, uint32_t attempt);
// "Full jitter": a uniform pick in [0, ceiling], taken from one random draw.
uint32_t full_jitter_ms(uint32_t ceiling_ms, uint32_t random);
// Wait asked by a 429: Retry-After seconds when given (clamped to the cap), else the fallback.
uint32_t retry_after_ms(int32_t retry_after_s, uint32_t fallback_ms, uint32_t cap_ms);

class Backoff {
 public:
  Backoff(const BackoffConfig& cfg, Rng& rng) : cfg_(cfg), rng_(rng) {}
  uint32_t next_delay_ms();
  void reset() { attempt_ = 0; }
  uint32_t attempt() const { return attempt_; }
  const BackoffConfig& config() const { return cfg_; }

 private:
  BackoffConfig cfg_;
  Rng& rng_;
  uint32_t attempt_ = 0;
};

// The wait before retrying a failed request: the next backoff delay, or the Retry-After of a 429.
uint32_t retry_delay_ms(Backoff& backoff, const ApiResult& r);

}  // namespace lifelog
