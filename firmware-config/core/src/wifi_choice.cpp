#include "lifelog/wifi_choice.h"

#include <cstring>

namespace lifelog {

int choose_network(const char* const* known, size_t known_count, const char* const* visible, size_t visible_count,
                   int current) {
  int limit = current == kNoNetwork ? int(known_count) : current;  // only better than what we have
  for (int k = 0; k < limit; ++k) {
    for (size_t v = 0; v < visible_count; ++v) {
      if (visible[v] && strcmp(known[k], visible[v]) == 0) return k;
    }
  }
  return kNoNetwork;
}

uint32_t next_scan_delay_ms(int current, uint32_t failed_attempts) {
  if (current == 0) return UINT32_MAX;
  if (current > 0) return 5u * 60u * 1000u;  // on a fallback: look for the preferred one every 5 min
  // Offline: 10 s, 20 s, 40 s ... at most 2 min. An async scan takes ~2-4 s of radio time
  // and never blocks the loop, so this only bounds the power spent scanning.
  uint32_t delay = 10000;
  for (uint32_t i = 0; i < failed_attempts && delay < 120000; ++i) delay *= 2;
  return delay > 120000 ? 120000 : delay;
}

}  // namespace lifelog
