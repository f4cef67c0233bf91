#include "wifi_glue.h"

#include <Arduino.h>
#include <WiFi.h>

#include "lifelog_core.h"

void WifiLink::begin(const device::Settings& settings) {
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(false);  // reconnects are decided here, between the loop's other work
  count_ = 0;
  for (size_t i = 0; i < settings.network_count && i < device::kMaxNetworks; ++i) networks_[count_++] = settings.networks[i];
  phase_ = Phase::Idle;
  current_ = -1;
  failures_ = 0;
  next_scan_ms_ = 0;
}

bool WifiLink::connected() const { return WiFi.status() == WL_CONNECTED; }

const char* WifiLink::current_ssid() const { return current_ >= 0 ? networks_[current_].ssid : ""; }

void WifiLink::start_scan(uint64_t now_ms) {
  // async = true: returns WIFI_SCAN_RUNNING at once; scanComplete() reports the result later.
  if (WiFi.scanNetworks(true) == WIFI_SCAN_FAILED) {
    next_scan_ms_ = now_ms + lifelog::next_scan_delay_ms(-1, ++failures_);
    return;
  }
  phase_ = Phase::Scanning;
}

void WifiLink::on_scan_done(uint64_t now_ms, int found) {
  const char* known[device::kMaxNetworks];
  for (size_t i = 0; i < count_; ++i) known[i] = networks_[i].ssid;
  static String names[24];  // SSIDs of this scan (the strongest 24 are plenty)
  const char* visible[24];
  size_t n = 0;
  for (int i = 0; i < found && n < 24; ++i) {
    names[n] = WiFi.SSID(uint8_t(i));
    visible[n] = names[n].c_str();
    ++n;
  }
  WiFi.scanDelete();
  int joined = connected() ? current_ : -1;
  int pick = lifelog::choose_network(known, count_, visible, n, joined);
  if (pick == lifelog::kNoNetwork) {
    phase_ = joined >= 0 ? Phase::Joined : Phase::Idle;
    if (joined < 0) ++failures_;
    next_scan_ms_ = now_ms + lifelog::next_scan_delay_ms(joined, failures_);
    return;
  }
  if (joined >= 0) {
    Serial.printf("[wifi] \"%s\" is back: leaving \"%s\"\n", networks_[pick].ssid, networks_[joined].ssid);
    WiFi.disconnect();
  }
  current_ = pick;
  const device::WifiCredentials& n_ = networks_[pick];
  WiFi.begin(n_.ssid, n_.password[0] ? n_.password : nullptr);
  phase_ = Phase::Joining;
  join_deadline_ms_ = now_ms + kJoinTimeoutMs;
}

void WifiLink::maintain(uint64_t now_ms) {
  if (count_ == 0) return;
  switch (phase_) {
    case Phase::Idle:
      if (now_ms >= next_scan_ms_) start_scan(now_ms);
      break;
    case Phase::Scanning: {
      int16_t found = WiFi.scanComplete();
      if (found == WIFI_SCAN_RUNNING) break;
      if (found == WIFI_SCAN_FAILED) {
        phase_ = connected() ? Phase::Joined : Phase::Idle;
        next_scan_ms_ = now_ms + lifelog::next_scan_delay_ms(connected() ? current_ : -1, ++failures_);
        break;
      }
      on_scan_done(now_ms, found);
      break;
    }
    case Phase::Joining:
      if (connected()) {
        Serial.printf("[wifi] joined \"%s\"\n", current_ssid());
        phase_ = Phase::Joined;
        failures_ = 0;
        next_scan_ms_ = now_ms + lifelog::next_scan_delay_ms(current_, 0);
      } else if (now_ms >= join_deadline_ms_) {
        Serial.printf("[wifi] could not join \"%s\"\n", current_ssid());
        WiFi.disconnect();
        current_ = -1;
        phase_ = Phase::Idle;
        next_scan_ms_ = now_ms + lifelog::next_scan_delay_ms(-1, ++failures_);
      }
      break;
    case Phase::Joined:
      if (!connected()) {
        Serial.printf("[wifi] lost \"%s\"\n", current_ssid());
        current_ = -1;
        phase_ = Phase::Idle;
        next_scan_ms_ = now_ms;  // look at once
      } else if (now_ms >= next_scan_ms_) {
        start_scan(now_ms);  // on a fallback network: is the preferred one back?
      }
      break;
  }
}
