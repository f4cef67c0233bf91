#pragma once
#include <cstdint>

namespace lifelog {

// The task watchdog as the board runs it (esp_task_wdt: the loop task must call
// esp_task_wdt_reset() at least every timeout, or the chip resets). The device feeds the real
// one; the simulator and the tests feed this model, which records the longest gap so a run can
// show how close it came.
class WatchdogModel {
 public:
  explicit WatchdogModel(uint32_t timeout_ms) : timeout_ms_(timeout_ms) {}
  void start(uint64_t now_ms) {
    last_ms_ = now_ms;
    started_ = true;
  }
  void feed(uint64_t now_ms) {
    if (!started_) start(now_ms);
    if (now_ms - last_ms_ > max_gap_ms_) max_gap_ms_ = now_ms - last_ms_;
    if (now_ms - last_ms_ >= timeout_ms_) ++resets_;
    last_ms_ = now_ms;
  }
  // True once a feed came too late (the board would have reset by then).
  bool fired() const { return resets_ > 0; }
  uint32_t resets() const { return resets_; }
  uint64_t max_gap_ms() const { return max_gap_ms_; }
  uint32_t timeout_ms() const { return timeout_ms_; }

 private:
  uint32_t timeout_ms_;
  uint64_t last_ms_ = 0;
  uint64_t max_gap_ms_ = 0;
  uint32_t resets_ = 0;
  bool started_ = false;
};

}  // namespace lifelog
