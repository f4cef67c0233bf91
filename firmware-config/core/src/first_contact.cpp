#include "lifelog/first_contact.h"

namespace lifelog {

bool FirstContactSpread::may_call(bool online, uint64_t now_ms) {
  if (!online) {
    was_online_ = false;
    waiting_ = false;
    return false;
  }
  if (!was_online_) {
    was_online_ = true;
    uint32_t wait = spread_ms_ == 0 ? 0 : uint32_t(uint64_t(jitter_.next_u32()) % (uint64_t(spread_ms_) + 1));
    waiting_ = wait > 0;
    ready_at_ms_ = now_ms + wait;
  }
  if (waiting_ && now_ms >= ready_at_ms_) waiting_ = false;
  return !waiting_;
}

}  // namespace lifelog
