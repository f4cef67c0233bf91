#include "portal.h"

#include <Arduino.h>
#include <DNSServer.h>
#include <WebServer.h>
#include <WiFi.h>
#include <esp_task_wdt.h>

#include <cstdio>

#include "device_settings.h"

namespace {

constexpr uint16_t kDnsPort = 53;

// Static page: nothing the user typed is ever echoed back into HTML.
const char kPortalPage[] PROGMEM = R"HTML(<!doctype html>
<html><head><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Lifelog camera setup</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
label{display:block;margin-top:1em}input{width:100%;padding:.5em;box-sizing:border-box}
button{margin-top:1.5em;padding:.7em 2em}</style></head>
<body><h1>Lifelog camera</h1>
<p>Add a 2.4&nbsp;GHz Wi-Fi network (home or phone hotspot) and/or the pairing code shown in the app.
Leave a field empty to keep what the camera already has.</p>
<form method="post" action="/save">
<label>Wi-Fi name (SSID, at most 32 bytes)<input name="ssid" maxlength="32" autocapitalize="none"></label>
<label>Wi-Fi password (8-63 characters, or 64 hex digits)<input name="password" type="password" maxlength="64"></label>
<label>Pairing code<input name="pairing_code" maxlength="39" autocapitalize="characters"></label>
<button type="submit">Save</button>
</form></body></html>)HTML";

// Answers are fixed text from the firmware (the core's messages), never what was typed.
String answer_page(const char* title, const char* wifi_note, const char* code_note) {
  String page("<!doctype html><html><head><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>");
  page = page + title + "</title></head><body><h1>" + title + "</h1><p>" + wifi_note + "</p><p>" + code_note +
         "</p><p><a href=\"/\">Back</a></p></body></html>";
  return page;
}

void access_point_name(lifelog::KeyValueStore& kv, char* out, size_t cap) {
  if (kv.get_str(device::key::kPortalSsid, out, cap) && out[0]) return;
  uint64_t mac = ESP.getEfuseMac();
  snprintf(out, cap, "Lifelog-Setup-%04X", unsigned(mac >> 32) & 0xFFFFu);
}

}  // namespace

bool run_setup_portal(lifelog::KeyValueStore& kv, StatusLed& led, uint32_t timeout_ms, lifelog::TokenState token) {
  char ap_name[device::kSsidCap];
  char ap_password[device::kPortalPasswordCap];
  access_point_name(kv, ap_name, sizeof(ap_name));
  if (!kv.get_str(device::key::kPortalPassword, ap_password, sizeof(ap_password)) ||
      !lifelog::portal_password_usable(ap_password)) {
    // An open access point would carry Wi-Fi passwords in clear: no portal without WPA2.
    Serial.println("[portal] no portal password in NVS (render or nvs writes one): portal not started");
    return false;
  }
  WiFi.mode(WIFI_AP);
  // With a passphrase, softAP() configures WPA2-PSK (arduino-esp32 libraries/WiFi/src/AP.cpp).
  if (!WiFi.softAP(ap_name, ap_password)) {
    Serial.println("[portal] the access point did not start");
    WiFi.mode(WIFI_STA);
    return false;
  }
  IPAddress ip = WiFi.softAPIP();
  Serial.printf("[portal] join Wi-Fi \"%s\" (its password was shown by render/nvs) and open http://%s/\n", ap_name,
                ip.toString().c_str());

  DNSServer dns;
  dns.start(kDnsPort, "*", ip);
  WebServer server(80);
  bool saved = false;

  server.on("/", HTTP_GET, [&]() { server.send(200, "text/html", kPortalPage); });
  server.on("/save", HTTP_POST, [&]() {
    String ssid = server.arg("ssid");
    String password = server.arg("password");
    String code = server.arg("pairing_code");
    ssid.trim();
    code.trim();
    const char* wifi_note = "";
    const char* code_note = "";
    bool wifi_saved = false, code_saved = false, refused = false;
    if (ssid.length() > 0) {
      const char* why = nullptr;
      wifi_saved = device::remember_network(kv, ssid.c_str(), password.c_str(), &why);
      wifi_note = wifi_saved ? "Wi-Fi network saved." : (why ? why : "The Wi-Fi network could not be stored.");
      refused = refused || !wifi_saved;
    }
    if (code.length() > 0) {
      // Never erases a token the server still accepts (portal_policy.h).
      lifelog::CodeDecision d = lifelog::decide_pairing_code(token, code.c_str());
      code_saved = d == lifelog::CodeDecision::Accept && device::store_pairing_code(kv, code.c_str());
      code_note = d == lifelog::CodeDecision::Accept && !code_saved ? "The pairing code could not be stored."
                                                                      : lifelog::code_decision_message(d);
      refused = refused || !code_saved;
    }
    saved = wifi_saved || code_saved;
    server.send(refused ? 400 : 200, "text/html", answer_page(refused ? "Not saved" : "Saved", wifi_note, code_note));
  });
  // Captive-portal probes (generate_204, hotspot-detect.html, ...) land here.
  server.onNotFound([&]() {
    server.sendHeader("Location", String("http://") + ip.toString() + "/", true);
    server.send(302, "text/plain", "");
  });
  server.begin();

  led.show(LedPattern::Portal);
  uint32_t start = millis();
  while (!saved && millis() - start < timeout_ms) {
    dns.processNextRequest();
    server.handleClient();
    led.tick(millis());
    esp_task_wdt_reset();
    delay(5);
  }
  if (saved) {
    // Let the "saved" page reach the phone before the access point goes away.
    for (uint32_t t = millis(); millis() - t < 1000;) {
      server.handleClient();
      delay(5);
    }
  }
  server.stop();
  dns.stop();
  WiFi.softAPdisconnect(true);
  WiFi.mode(WIFI_STA);
  led.show(LedPattern::Off);
  return saved;
}
