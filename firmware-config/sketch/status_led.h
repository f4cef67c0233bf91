#pragma once
// The user LED shares GPIO21 with the microSD chip-select. The LED is therefore only driven
// while the card is unmounted (no card, a failed card, or the setup portal before mounting);
// the moment the card is about to be mounted the pin is handed back to the SPI driver.
#include <cstdint>

enum class LedPattern : uint8_t {
  Off,
  Portal,     // slow blink: setup portal waiting for Wi-Fi / pairing code
  CardError,  // fast blink: no usable card, captures paused
};

class StatusLed {
 public:
  static constexpr uint8_t kPin = 21;  // LED_BUILTIN on the XIAO ESP32S3, active-low

  void show(LedPattern pattern);  // only while the card is not in use
  void release_for_card();        // LED off, pin back to input; call before SD.begin
  void tick(uint64_t now_ms);     // advances the blink; does nothing while released

 private:
  void drive(bool on);
  LedPattern pattern_ = LedPattern::Off;
  bool owned_ = false;
  bool lit_ = false;
  uint64_t next_toggle_ms_ = 0;
};

// Blink period for a pattern; 0 means steady off. Pure so the rule is obvious.
uint32_t led_half_period_ms(LedPattern pattern);
