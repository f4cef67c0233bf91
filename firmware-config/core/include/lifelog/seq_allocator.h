#pragma once
#include <cstdint>

#include "kv_store.h"

namespace lifelog {

// Hands out sequence numbers that never repeat, even across power cuts. Numbers are
// reserved in blocks: the store holds an upper bound that is written before any number
// below it is used, so a cut wastes at most one block (gaps are fine, repeats are not).
class SeqAllocator {
 public:
  static constexpr const char* kKey = "seq_limit";
  explicit SeqAllocator(KeyValueStore& kv, uint32_t block = 16) : kv_(kv), block_(block ? block : 1) {}
  // Loads the stored limit (none stored reads as 0). Cannot fail: store errors surface in
  // next() and ensure_above(), which also call it when it was not called first.
  bool begin();
  // False when the reservation could not be persisted; no number is handed out then.
  bool next(uint32_t* out);
  // Every later number will be greater than seq (one found on the card). The raised limit is
  // persisted before returning true, so a lost or reset store cannot bring seq back.
  bool ensure_above(uint32_t seq);
  uint32_t peek_next() const { return next_; }

 private:
  KeyValueStore& kv_;
  uint32_t block_;
  uint32_t next_ = 0;
  uint32_t limit_ = 0;
  bool ready_ = false;
};

}  // namespace lifelog
