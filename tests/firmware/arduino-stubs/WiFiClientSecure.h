// DECLARATIONS ONLY (arduino-esp32 3.x libraries/NetworkClientSecure/src/NetworkClientSecure.h and
// .cpp for the return conventions); see README.md.
#pragma once
#include "WiFiClient.h"

class WiFiClientSecure : public WiFiClient {
 public:
  WiFiClientSecure();
  int connect(const char* host, uint16_t port) override;
  int connect(const char* host, uint16_t port, int32_t timeout) override;
  // 0 when nothing could be sent (and the client stop()s itself on a failed write).
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  // NetworkClientSecure.cpp: returns -1 when available() <= 0, not 0: "nothing yet" is not "closed".
  int read(uint8_t* buf, size_t size) override;
  void stop() override;
  uint8_t connected() override;
  // mbedtls_strerror() of the last handshake/IO error into buf; returns the mbedTLS code.
  int lastError(char* buf, const size_t size);
  void setInsecure();
  void setCACert(const char* rootCA);  // one PEM buffer; several concatenated certificates are all trusted
  void setHandshakeTimeout(unsigned long handshake_timeout);  // seconds
};
