#pragma once
#include "lifelog/net_client.h"

// Plain TCP (no TLS) with connect/read/write timeouts.
class TcpNetClient : public lifelog::NetClient {
 public:
  explicit TcpNetClient(int timeout_ms = 15000) : timeout_ms_(timeout_ms) {}
  ~TcpNetClient() override { close(); }
  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  void close() override;
  bool connected() override { return fd_ >= 0; }

 private:
  int fd_ = -1;
  int timeout_ms_;
};
