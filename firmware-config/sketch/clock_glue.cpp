#include "clock_glue.h"

#include <Arduino.h>
#include <esp_sntp.h>
#include <esp_timer.h>

#include <ctime>

namespace {
// Written from the SNTP (lwIP) task, read from loop(): a plain flag that only goes false -> true.
volatile bool g_time_synced = false;

void on_time_synced(struct timeval*) { g_time_synced = true; }
}  // namespace

void DeviceClock::begin() { sntp_set_time_sync_notification_cb(on_time_synced); }

void DeviceClock::start_sntp(const char* posix_tz) {
  if (sntp_started_) return;
  configTzTime(posix_tz, "pool.ntp.org");
  sntp_started_ = true;
}

uint64_t DeviceClock::monotonic_ms() { return uint64_t(esp_timer_get_time() / 1000); }

int64_t DeviceClock::wall_utc_s() { return int64_t(time(nullptr)); }

bool DeviceClock::wall_synced() { return g_time_synced; }
