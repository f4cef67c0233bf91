#pragma once
#include "lifelog/net_client.h"

// Plain TCP (no TLS). connect() waits up to connect_timeout_ms; read()/write() wait one slice
// (kSliceMs) and then report kWouldBlock, so the core measures idle time from the last byte of
// progress. The send buffer is held to the device's size so "written" means about what it means
// on the board, and unsent() reports what the kernel still holds (SIOCOUTQ).
class TcpNetClient : public lifelog::NetClient {
 public:
  // How abort() ends a connection. kFin is the board's: arduino-esp32 3.x builds lwIP without
  // CONFIG_LWIP_SO_LINGER, so its abort() is a plain close (queued bytes drain, then FIN; as on
  // Linux, unread received data turns it into RST). kReset (SO_LINGER 0) is what a host could do.
  enum class AbortMode { kFin, kReset };
  static constexpr int kSliceMs = 500;
  // lwIP's send buffer on the board: CONFIG_LWIP_TCP_SND_BUF_DEFAULT=5744 in
  // espressif/esp32-arduino-lib-builder configs/defconfig.common (PR #325; ESP-IDF's own default
  // is 5760). Linux doubles the value passed to SO_SNDBUF and keeps a floor (socket(7)); it stays small.
  static constexpr int kSendBuffer = 5744;
  explicit TcpNetClient(int connect_timeout_ms = 15000, AbortMode abort_mode = AbortMode::kFin)
      : connect_timeout_ms_(connect_timeout_ms), abort_mode_(abort_mode) {}
  ~TcpNetClient() override { close(); }
  bool connect(const char* host, uint16_t port) override;
  int32_t write(const uint8_t* data, size_t len) override;
  int32_t read(uint8_t* buf, size_t len) override;
  uint64_t unsent() override;
  void close() override;
  void abort() override;
  bool connected() override { return fd_ >= 0; }
  uint32_t aborts() const { return aborts_; }

 private:
  int fd_ = -1;
  int connect_timeout_ms_;
  AbortMode abort_mode_;
  uint32_t aborts_ = 0;
};
