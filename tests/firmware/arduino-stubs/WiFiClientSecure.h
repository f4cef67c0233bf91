// DECLARATIONS ONLY (arduino-esp32 libraries/NetworkClientSecure/src/NetworkClientSecure.h); see README.md.
#pragma once
#include "WiFiClient.h"

class WiFiClientSecure : public WiFiClient {
 public:
  WiFiClientSecure();
  int connect(const char* host, uint16_t port) override;
  int connect(const char* host, uint16_t port, int32_t timeout) override;
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read(uint8_t* buf, size_t size) override;
  void stop() override;
  uint8_t connected() override;
  void setInsecure();
  void setCACert(const char* rootCA);
  void setHandshakeTimeout(unsigned long handshake_timeout);
};
