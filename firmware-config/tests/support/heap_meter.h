#pragma once
#include <cstddef>

// Counts live heap bytes from operator new/delete and cJSON, and the peak since the last reset.
namespace heap_meter {
void install_cjson_hooks();
size_t live();
size_t peak();
void reset_peak();  // peak := live
// While one of these lives, allocations are not counted (used by the test doubles, which
// stand in for hardware that would not use the heap at all).
struct Untracked {
  Untracked();
  ~Untracked();
};
}  // namespace heap_meter
