#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

// Incremental SHA-256 (FIPS 180-4), fixed 104 bytes of state, no heap.
class Sha256 {
 public:
  static constexpr size_t kDigestSize = 32;
  static constexpr size_t kHexSize = 65;  // 64 hex digits + NUL
  Sha256() { reset(); }
  void reset();
  void update(const uint8_t* data, size_t len);
  void finish(uint8_t digest[kDigestSize]);
  void finish_hex(char out[kHexSize]);

 private:
  void compress(const uint8_t block[64]);
  uint32_t h_[8];
  uint64_t total_len_;
  uint8_t block_[64];
  size_t block_len_;
};

}  // namespace lifelog
