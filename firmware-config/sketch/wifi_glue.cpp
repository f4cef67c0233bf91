#include "wifi_glue.h"

#include <Arduino.h>
#include <WiFi.h>

void WifiLink::begin(const device::Settings& settings) {
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  multi_.reset(new WiFiMulti());  // a fresh list: WiFiMulti has no portable way to clear one
  count_ = 0;
  for (size_t i = 0; i < settings.network_count; ++i) {
    const device::WifiCredentials& n = settings.networks[i];
    if (multi_->addAP(n.ssid, n.password[0] ? n.password : nullptr)) ++count_;
  }
  next_try_ms_ = 0;
}

bool WifiLink::connect(uint32_t timeout_ms) {
  if (!multi_ || count_ == 0) return false;
  uint32_t start = millis();
  while (millis() - start < timeout_ms) {
    if (multi_->run(kAttemptTimeoutMs) == WL_CONNECTED) return true;
    delay(250);
  }
  return connected();
}

void WifiLink::maintain(uint64_t now_ms) {
  if (!multi_ || count_ == 0 || connected() || now_ms < next_try_ms_) return;
  // run() scans and may block for a few seconds: rate-limited so captures keep their rhythm.
  multi_->run(kAttemptTimeoutMs);
  next_try_ms_ = now_ms + kRetryIntervalMs;
}

bool WifiLink::connected() const { return WiFi.status() == WL_CONNECTED; }
