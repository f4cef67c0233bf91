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

// The wait the server asked for on a 429 or 503 (Retry-After, either form, bounded by
// kMaxRetryAfterS), or -1 when it asked for none. wall_now_s: the device's UTC clock if set, else -1.
int64_t server_wait_ms(const ApiResult& r, int64_t wall_now_s);

// The wait before retrying a failed request. When the server said how long (server_wait_ms),
// exactly that, and the backoff does not advance: waits the server imposes say nothing about
// the link, so they must not lengthen later, unrelated retries. Otherwise the next backoff delay.
uint32_t retry_delay_ms(Backoff& backoff, const ApiResult& r, int64_t wall_now_s = -1);

}  // namespace lifelog
