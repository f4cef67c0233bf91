#pragma once
// A platform without a setup portal or a status light (sim-camera, the loop's host tests): the
// pairing code comes from elsewhere and nothing is shown.
#include <cstdint>

#include "lifelog/device_loop.h"

class NoPortal : public lifelog::SetupPortal {
 public:
  bool run(lifelog::TokenState) override { return false; }
  bool button_down() override { return false; }
};

class NoLight : public lifelog::StatusLight {
 public:
  void card_failed() override {}
  void tick(uint64_t) override {}
};
