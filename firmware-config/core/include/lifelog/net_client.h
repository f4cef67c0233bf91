#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

// One byte stream to one host. TLS, if any, lives in the implementation. read() and write()
// wait at most one short slice (about a second) so the caller keeps control: it measures the
// idle timeout from the last byte of progress, keeps a time budget and feeds the watchdog.
class NetClient {
 public:
  static constexpr int32_t kWouldBlock = -2;  // nothing moved within one wait slice
  virtual ~NetClient() = default;
  virtual bool connect(const char* host, uint16_t port) = 0;
  // Bytes accepted (may be fewer than len), kWouldBlock, or -1 on error.
  virtual int32_t write(const uint8_t* data, size_t len) = 0;
  // > 0 bytes read, 0 when the peer closed, kWouldBlock, or -1 on error.
  virtual int32_t read(uint8_t* buf, size_t len) = 0;
  // Bytes accepted by write() that the stack has not delivered yet. While it shrinks the link is
  // moving even though no answer has come back (a slow uplink draining its send queue).
  virtual uint64_t unsent() { return 0; }
  virtual void close() = 0;
  // Drops the connection at once (TCP RST where the stack allows it) so an upload given up
  // mid-body stops competing with the retry for the uplink. Defaults to close().
  virtual void abort() { close(); }
  virtual bool connected() = 0;
  // The last connect/transport failure in words ("" when none), e.g. why a TLS handshake failed.
  virtual const char* last_error() { return ""; }
};

}  // namespace lifelog
