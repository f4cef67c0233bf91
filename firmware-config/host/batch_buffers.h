#pragma once
// Batch buffers for the host builds (simulator, tests, benchmarks); the board takes the same
// sizes from PSRAM (sketch/device_app.cpp).
#include <vector>

#include "lifelog/device_api.h"

struct HostBatchBuffers {
  std::vector<char> request = std::vector<char>(lifelog::kBatchRequestBytes);
  std::vector<char> answer = std::vector<char>(lifelog::kBatchAnswerBytes + 1);
  lifelog::BatchBuffers view() { return lifelog::full_window_buffers(request.data(), answer.data()); }
};
