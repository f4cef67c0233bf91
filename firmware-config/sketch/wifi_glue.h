#pragma once
// Station mode over the networks stored in NVS, in preference order (e.g. home, then the phone
// hotspot; 2.4 GHz only). Never blocks: maintain() drives an asynchronous scan
// (WiFi.scanNetworks(true)) and a WiFi.begin() whose outcome it checks on later calls, so the
// loop keeps capturing while offline. The choice of network is the core's (wifi_choice.h):
// the most preferred one in reach, and back to it when it returns.
#include <cstddef>
#include <cstdint>

#include "device_settings.h"

class WifiLink {
 public:
  void begin(const device::Settings& settings);  // replaces the known networks
  void maintain(uint64_t now_ms);                // one non-blocking step
  bool connected() const;
  size_t network_count() const { return count_; }
  const char* current_ssid() const;

 private:
  enum class Phase : uint8_t { Idle, Scanning, Joining, Joined };
  void start_scan(uint64_t now_ms);
  void on_scan_done(uint64_t now_ms, int found);
  static constexpr uint32_t kJoinTimeoutMs = 15000;
  device::WifiCredentials networks_[device::kMaxNetworks];
  size_t count_ = 0;
  Phase phase_ = Phase::Idle;
  int current_ = -1;   // index joined (or being joined)
  uint32_t failures_ = 0;
  uint64_t next_scan_ms_ = 0;
  uint64_t join_deadline_ms_ = 0;
};
