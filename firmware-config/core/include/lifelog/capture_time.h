#pragma once
#include <cstdint>

#include "clock.h"
#include "kv_store.h"

namespace lifelog {

// When a photo was taken, as known at capture time (and possibly fixed later).
struct CaptureStamp {
  int64_t wall_s = 0;      // device wall clock; trustworthy only if ntp_synced
  uint64_t mono_ms = 0;    // monotonic time of the capture within boot `boot_id`
  uint32_t boot_id = 0;
  bool ntp_synced = false;
  bool time_corrected = false;  // wall_s was back-computed after a later sync
};

struct ClockReading {
  int64_t wall_s = 0;
  uint64_t mono_ms = 0;
  uint32_t boot_id = 0;
  bool synced = false;
};

// Counts this boot in kv and returns its id: never 0 (the count skips 0 when it wraps);
// 0 only when kv refused to store it.
constexpr const char* kBootIdKey = "boot_id";
uint32_t next_boot_id(KeyValueStore& kv);

ClockReading read_clock(Clock& clock, uint32_t boot_id);
CaptureStamp stamp_now(const ClockReading& now);

// Returns the best timestamp for a photo given the clock now. An unsynced capture from this
// boot becomes synced+corrected once the clock is set; one from an earlier boot stays unsynced.
CaptureStamp resolve_capture_time(const CaptureStamp& at_capture, const ClockReading& now);

}  // namespace lifelog
