#include "lifelog/remote_settings.h"

namespace lifelog {

RemoteSettings load_remote_settings(KeyValueStore& kv) {
  RemoteSettings s;
  uint32_t v = 0;
  if (kv.get_u32(kPausedKey, &v)) s.paused = v != 0;
  if (kv.get_u32(kIntervalKey, &v)) s.capture_interval_s = v;
  return s;
}

bool save_remote_settings(KeyValueStore& kv, const RemoteSettings& s) {
  // Pause first: a cut between the two leaves the privacy choice already stored.
  return kv.put_u32(kPausedKey, s.paused ? 1 : 0) && kv.put_u32(kIntervalKey, s.capture_interval_s);
}

uint64_t capture_interval_ms(const RemoteSettings& s, uint64_t built_in_ms) {
  return s.capture_interval_s ? uint64_t(s.capture_interval_s) * 1000 : built_in_ms;
}

}  // namespace lifelog
