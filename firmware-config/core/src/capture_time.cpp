#include "lifelog/capture_time.h"

namespace lifelog {

uint32_t next_boot_id(KeyValueStore& kv) {
  uint32_t boot_id = 0;
  kv.get_u32(kBootIdKey, &boot_id);
  ++boot_id;
  if (boot_id == 0) boot_id = 1;
  return kv.put_u32(kBootIdKey, boot_id) ? boot_id : 0;
}

ClockReading read_clock(Clock& clock, uint32_t boot_id) {
  ClockReading r;
  r.mono_ms = clock.monotonic_ms();
  r.synced = clock.wall_synced();
  r.wall_s = clock.wall_utc_s();
  r.boot_id = boot_id;
  return r;
}

CaptureStamp stamp_now(const ClockReading& now) {
  CaptureStamp s;
  s.wall_s = now.wall_s;
  s.mono_ms = now.mono_ms;
  s.boot_id = now.boot_id;
  s.ntp_synced = now.synced;
  return s;
}

CaptureStamp resolve_capture_time(const CaptureStamp& at_capture, const ClockReading& now) {
  if (at_capture.ntp_synced || !now.synced || at_capture.boot_id != now.boot_id) return at_capture;
  if (at_capture.mono_ms > now.mono_ms) return at_capture;  // cannot happen within one boot
  uint64_t age_ms = now.mono_ms - at_capture.mono_ms;
  // Round to the nearest second so a 30.6 s old photo is not reported a second late.
  CaptureStamp fixed = at_capture;
  fixed.wall_s = now.wall_s - int64_t((age_ms + 500) / 1000);
  fixed.ntp_synced = true;
  fixed.time_corrected = true;
  return fixed;
}

}  // namespace lifelog
