#pragma once
// A NetClient between the core and FakeNet that behaves like a slow uplink seen through a TCP
// stack: write() copies into a send queue of `send_buffer` bytes and returns at once while there
// is room (as lwIP's and Linux's send() do), the queue drains to the peer at `bytes_per_s`, and
// every wait is one slice of `slice_ms` of the test clock (TlsNetClient and TcpNetClient wait in
// slices of at most a second too). A graceful close() with bytes still queued is counted: on a
// real stack those bytes keep going out and compete with the retry; abort() drops them.
#include <cstdint>
#include <string>

#include "lifelog/net_client.h"
#include "support/rig.h"

class ThrottledNet : public lifelog::NetClient {
 public:
  ThrottledNet(lifelog::NetClient& inner, TestClock& clock, uint32_t bytes_per_s, size_t send_buffer)
      : inner_(inner), clock_(clock), rate_(bytes_per_s), cap_(send_buffer) {}
  uint32_t slice_ms = 1000;
  uint32_t aborts = 0;
  uint32_t closes_with_unsent = 0;

  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  uint64_t unsent() override { return queue_.size(); }
  void close() override;
  void abort() override;
  bool connected() override { return inner_.connected(); }

 private:
  bool wait_slice();  // one slice passes; queued bytes drain; false if the peer is gone
  lifelog::NetClient& inner_;
  TestClock& clock_;
  uint32_t rate_;
  size_t cap_;
  std::string queue_;
};
