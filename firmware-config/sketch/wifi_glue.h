#pragma once
// Station mode over the networks stored in NVS (e.g. home + phone hotspot; 2.4 GHz only).
// WiFiMulti picks the strongest known network that is in range.
#include <WiFiMulti.h>

#include <memory>

#include "device_settings.h"

class WifiLink {
 public:
  void begin(const device::Settings& settings);  // replaces the known networks
  bool connect(uint32_t timeout_ms);             // blocking; used at boot
  void maintain(uint64_t now_ms);                // when down, one reconnect attempt per interval
  bool connected() const;
  size_t network_count() const { return count_; }

 private:
  static constexpr uint32_t kRetryIntervalMs = 30000;
  static constexpr uint32_t kAttemptTimeoutMs = 8000;
  std::unique_ptr<WiFiMulti> multi_;
  size_t count_ = 0;
  uint64_t next_try_ms_ = 0;
};
