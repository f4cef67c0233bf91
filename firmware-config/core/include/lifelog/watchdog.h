#pragma once
#include <cstdint>

namespace lifelog {

// The task watchdog through which the loop is watched. On the board esp_task_wdt: subscribe()
// is esp_task_wdt_add() for the calling task (after configuring the timeout), feed() is
// esp_task_wdt_reset(), which ESP-IDF 5.x refuses (ESP_ERR_NOT_FOUND, and an error printed on
// every call) when the calling task was never subscribed.
class Watchdog {
 public:
  virtual ~Watchdog() = default;
  virtual void subscribe() = 0;
  // False when the watchdog refused the feed (the task is not subscribed).
  virtual bool feed() = 0;
};

// The task watchdog as the board runs it: once subscribed, the task must feed it at least every
// timeout, or the chip resets. A feed from a task that is not subscribed is refused and counted,
// as ESP-IDF 5.3 answers it (esp_task_wdt_reset: ESP_ERR_NOT_FOUND, "task not found" logged).
// The simulator and the tests feed this model, which records the longest gap so a run can
// show how close it came.
class WatchdogModel {
 public:
  explicit WatchdogModel(uint32_t timeout_ms) : timeout_ms_(timeout_ms) {}
  void subscribe(uint64_t now_ms) {
    last_ms_ = now_ms;
    subscribed_ = true;
  }
  bool feed(uint64_t now_ms) {
    if (!subscribed_) {
      ++refused_feeds_;
      return false;
    }
    if (now_ms - last_ms_ > max_gap_ms_) max_gap_ms_ = now_ms - last_ms_;
    if (now_ms - last_ms_ >= timeout_ms_) ++resets_;
    last_ms_ = now_ms;
    return true;
  }
  bool subscribed() const { return subscribed_; }
  // True once a feed came too late (the board would have reset by then).
  bool fired() const { return resets_ > 0; }
  uint32_t resets() const { return resets_; }
  // Feeds refused because the task was not subscribed (each one an error line on the board).
  uint32_t refused_feeds() const { return refused_feeds_; }
  uint64_t max_gap_ms() const { return max_gap_ms_; }
  uint32_t timeout_ms() const { return timeout_ms_; }

 private:
  uint32_t timeout_ms_;
  uint64_t last_ms_ = 0;
  uint64_t max_gap_ms_ = 0;
  uint32_t resets_ = 0;
  uint32_t refused_feeds_ = 0;
  bool subscribed_ = false;
};

}  // namespace lifelog
