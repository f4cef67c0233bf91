// DECLARATIONS ONLY (arduino-esp32 3.x libraries/Network/src/NetworkClient.h; WiFiClient is its
// alias); see README.md.
#pragma once
#include "Arduino.h"

class WiFiClient : public Stream {
 public:
  WiFiClient();
  virtual int connect(const char* host, uint16_t port);
  virtual int connect(const char* host, uint16_t port, int32_t timeout_ms);
  size_t write(uint8_t) override;
  // May accept fewer than `size` bytes (send() on a full lwIP send buffer); 0 on failure.
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read() override;
  int peek() override;
  virtual int read(uint8_t* buf, size_t size);
  virtual void stop();
  virtual uint8_t connected();
  int setSocketOption(int option, char* value, size_t len);
  int setSocketOption(int level, int option, const void* value, size_t len);
};
