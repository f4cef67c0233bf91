#pragma once
// The privacy indicator: a steady light while the owner has paused the camera. It cannot be
// the user LED: GPIO21 is also the microSD chip-select on the Sense board (Seeed wiki "tf and
// filesystem"; SD.begin(21)), and the card is in use whenever the camera runs. So it is an
// external LED (with its resistor) on a free pin, by default D1 = GPIO2 (arduino-esp32
// variants/XIAO_ESP32S3/pins_arduino.h: D0 = 1, D1 = 2). Free because the camera uses GPIO
// 10-18, 38-40, 47, 48 and the card 7, 8, 9, 21 (Seeed wiki camera and microSD pages); GPIO3
// (D2) is avoided as an ESP32-S3 strapping pin (ESP32-S3 datasheet, "Strapping Pins").
// The pin comes from the config's `privacy_led_pin` (LIFELOG_PRIVACY_LED_PIN in lifelog_config.h),
// -1 for none.
#include <cstdint>

#include "lifelog_config.h"
#include "lifelog_core.h"

#ifndef LIFELOG_PRIVACY_LED_PIN
#define LIFELOG_PRIVACY_LED_PIN 2
#endif

class PrivacyLed : public lifelog::PrivacyIndicator {
 public:
  static constexpr int kPin = LIFELOG_PRIVACY_LED_PIN;  // active-high: the pin drives the LED's anode

  void show_paused(bool paused) override;
  bool lit() const { return lit_; }

 private:
  bool configured_ = false;
  bool lit_ = false;
};
