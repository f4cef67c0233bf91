#include "lifelog/backoff.h"

#include "lifelog/device_api.h"

namespace lifelog {

uint32_t backoff_ceiling_ms(const BackoffConfig& cfg, uint32_t attempt) {
  uint64_t ceiling = cfg.base_ms;
  for (uint32_t i = 0; i < attempt && ceiling < cfg.cap_ms; ++i) ceiling *= 2;
  return ceiling > cfg.cap_ms ? cfg.cap_ms : uint32_t(ceiling);
}

uint32_t full_jitter_ms(uint32_t ceiling_ms, uint32_t random) {
  return uint32_t(uint64_t(random) % (uint64_t(ceiling_ms) + 1));
}

uint32_t retry_after_ms(int32_t retry_after_s, uint32_t fallback_ms, uint32_t cap_ms) {
  if (retry_after_s < 0) return fallback_ms;
  uint64_t ms = uint64_t(retry_after_s) * 1000;
  return ms > cap_ms ? cap_ms : uint32_t(ms);
}

uint32_t Backoff::next_delay_ms() {
  uint32_t delay = full_jitter_ms(backoff_ceiling_ms(cfg_, attempt_), rng_.next_u32());
  if (attempt_ < 31) ++attempt_;
  return delay;
}

uint32_t retry_delay_ms(Backoff& backoff, const ApiResult& r) {
  uint32_t delay = backoff.next_delay_ms();
  if (r.outcome != ApiOutcome::RateLimited) return delay;
  return retry_after_ms(r.retry_after_s, delay, backoff.config().cap_ms);
}

}  // namespace lifelog
