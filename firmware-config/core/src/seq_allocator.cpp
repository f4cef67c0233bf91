#include "lifelog/seq_allocator.h"

namespace lifelog {

bool SeqAllocator::begin() {
  uint32_t stored = 0;
  if (!kv_.get_u32(kKey, &stored)) stored = 0;
  // Everything below the stored limit may already have been used by an earlier boot.
  next_ = stored;
  limit_ = stored;
  ready_ = true;
  return true;
}

bool SeqAllocator::next(uint32_t* out) {
  if (!ready_) begin();
  if (next_ >= limit_) {
    uint32_t new_limit = next_ + block_;
    if (new_limit < next_) return false;  // would wrap
    if (!kv_.put_u32(kKey, new_limit)) return false;
    limit_ = new_limit;
  }
  *out = next_++;
  return true;
}

bool SeqAllocator::ensure_above(uint32_t seq) {
  if (!ready_) begin();
  if (seq < next_) return true;
  if (seq + 1 == 0) return false;  // nothing above it
  if (seq >= limit_) {
    if (!kv_.put_u32(kKey, seq + 1)) return false;
    limit_ = seq + 1;
  }
  next_ = seq + 1;
  return true;
}

}  // namespace lifelog
