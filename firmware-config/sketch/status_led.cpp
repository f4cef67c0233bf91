#include "status_led.h"

#include <Arduino.h>

uint32_t led_half_period_ms(LedPattern pattern) {
  switch (pattern) {
    case LedPattern::Portal: return 1000;
    case LedPattern::CardError: return 150;
    case LedPattern::Off: break;
  }
  return 0;
}

void StatusLed::drive(bool on) {
  digitalWrite(kPin, on ? LOW : HIGH);  // active-low
  lit_ = on;
}

void StatusLed::show(LedPattern pattern) {
  if (!owned_) {
    pinMode(kPin, OUTPUT);
    owned_ = true;
  }
  pattern_ = pattern;
  next_toggle_ms_ = 0;
  drive(false);
}

void StatusLed::release_for_card() {
  if (!owned_) return;
  drive(false);
  pinMode(kPin, INPUT);
  owned_ = false;
  pattern_ = LedPattern::Off;
}

void StatusLed::tick(uint64_t now_ms) {
  uint32_t half = led_half_period_ms(pattern_);
  if (!owned_ || half == 0 || now_ms < next_toggle_ms_) return;
  drive(!lit_);
  next_toggle_ms_ = now_ms + half;
}
