// DECLARATIONS ONLY (arduino-esp32 libraries/DNSServer/src/DNSServer.h); see README.md.
#pragma once
#include "Arduino.h"

class DNSServer {
 public:
  DNSServer();
  ~DNSServer();
  void processNextRequest();
  bool start(const uint16_t& port, const String& domainName, const IPAddress& resolvedIP);
  void stop();
};
