#pragma once
// Which known network to join after a scan. Networks are known in order of preference (the
// config's order: home first, phone hotspot after); the camera joins the most preferred one in
// reach, and while on a less preferred one it keeps looking for a better one so it moves back
// home when home returns.
#include <cstddef>
#include <cstdint>

namespace lifelog {

constexpr int kNoNetwork = -1;

// known: SSIDs in preference order. visible: SSIDs the scan found. current: index of the network
// joined now, or kNoNetwork. Returns the index to join, or kNoNetwork to stay as is.
int choose_network(const char* const* known, size_t known_count, const char* const* visible, size_t visible_count,
                   int current);

// How long to wait before the next scan: soon while offline, rarely while on a network that is
// not the first choice, never while on the first choice.
uint32_t next_scan_delay_ms(int current, uint32_t failed_attempts);

}  // namespace lifelog
