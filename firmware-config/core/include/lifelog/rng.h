#pragma once
#include <cstdint>

namespace lifelog {

class Rng {
 public:
  virtual ~Rng() = default;
  virtual uint32_t next_u32() = 0;
};

// Deterministic generator (xorshift32) for tests and hosts; the device may use its hardware RNG.
class XorShiftRng : public Rng {
 public:
  explicit XorShiftRng(uint32_t seed) : state_(seed ? seed : 0x9E3779B9u) {}
  uint32_t next_u32() override {
    uint32_t x = state_;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    state_ = x;
    return x;
  }

 private:
  uint32_t state_;
};

}  // namespace lifelog
