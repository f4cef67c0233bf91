#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

// One byte stream to one host. TLS, if any, lives in the implementation.
class NetClient {
 public:
  virtual ~NetClient() = default;
  virtual bool connect(const char* host, uint16_t port) = 0;
  // Bytes accepted (may be fewer than len), or < 0 on error.
  virtual int32_t write(const uint8_t* data, size_t len) = 0;
  // > 0 bytes read, 0 when the peer closed, < 0 on error or timeout.
  virtual int32_t read(uint8_t* buf, size_t len) = 0;
  virtual void close() = 0;
  virtual bool connected() = 0;
};

}  // namespace lifelog
