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

uint32_t Backoff::next_delay_ms() {
  uint32_t delay = full_jitter_ms(backoff_ceiling_ms(cfg_, attempt_), rng_.next_u32());
  if (attempt_ < 31) ++attempt_;
  return delay;
}

int64_t server_wait_ms(const ApiResult& r, int64_t wall_now_s) {
  bool asks = r.status == 429 || r.status == 503;
  if (!asks || !r.retry_after.present()) return -1;
  return retry_after_wait_ms(r.retry_after, r.server_date_s, wall_now_s);
}

uint32_t retry_delay_ms(Backoff& backoff, const ApiResult& r, int64_t wall_now_s) {
  int64_t asked = server_wait_ms(r, wall_now_s);
  if (asked >= 0) return uint32_t(asked);
  return backoff.next_delay_ms();
}

}  // namespace lifelog
