#pragma once
// What the owner set for this camera (privacy pause, capture interval), as the last
// heartbeat answered it. Kept in NVS, so a paused camera stays paused through a power cut
// even when it cannot reach the server afterwards.
#include <cstdint>

#include "kv_store.h"

namespace lifelog {

// NVS keys (at most 15 characters); "interval_s" is taken by the provisioned built-in interval.
constexpr const char* kPausedKey = "owner_paused";
constexpr const char* kIntervalKey = "owner_intvl_s";

struct RemoteSettings {
  bool paused = false;
  uint32_t capture_interval_s = 0;  // 0: the interval the camera was built with
  bool operator==(const RemoteSettings& o) const {
    return paused == o.paused && capture_interval_s == o.capture_interval_s;
  }
  bool operator!=(const RemoteSettings& o) const { return !(*this == o); }
};

RemoteSettings load_remote_settings(KeyValueStore& kv);
bool save_remote_settings(KeyValueStore& kv, const RemoteSettings& s);
// Time between captures: the owner's interval when set, else the built-in one.
uint64_t capture_interval_ms(const RemoteSettings& s, uint64_t built_in_ms);

// Shows the privacy pause to people near the camera (an LED, a pattern). The core calls it
// at start and on every change; the board glue drives the pin.
class PrivacyIndicator {
 public:
  virtual ~PrivacyIndicator() = default;
  virtual void show_paused(bool paused) = 0;
};

}  // namespace lifelog
