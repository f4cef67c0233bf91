#include "privacy_led.h"

#include <Arduino.h>

void PrivacyLed::show_paused(bool paused) {
  if (kPin < 0) return;
  if (!configured_) {
    pinMode(uint8_t(kPin), OUTPUT);
    configured_ = true;
  }
  digitalWrite(uint8_t(kPin), paused ? HIGH : LOW);
  lit_ = paused;
}
