#include "portal.h"

#include <Arduino.h>
#include <DNSServer.h>
#include <WebServer.h>
#include <WiFi.h>

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
<label>Wi-Fi name (SSID)<input name="ssid" maxlength="32" autocapitalize="none"></label>
<label>Wi-Fi password<input name="password" type="password" maxlength="64"></label>
<label>Pairing code<input name="pairing_code" maxlength="39" autocapitalize="characters"></label>
<button type="submit">Save</button>
</form></body></html>)HTML";

const char kSavedPage[] PROGMEM = R"HTML(<!doctype html>
<html><head><meta name="viewport" content="width=device-width,initial-scale=1"><title>Saved</title></head>
<body><h1>Saved</h1><p>The camera now connects with these settings. You can close this page.</p></body></html>)HTML";

void access_point_name(char* out, size_t cap) {
  uint64_t mac = ESP.getEfuseMac();
  snprintf(out, cap, "Lifelog-Setup-%04X", unsigned(mac >> 32) & 0xFFFFu);
}

}  // namespace

bool run_setup_portal(lifelog::KeyValueStore& kv, StatusLed& led, uint32_t timeout_ms) {
  char ap_name[32];
  access_point_name(ap_name, sizeof(ap_name));
  WiFi.mode(WIFI_AP);
  WiFi.softAP(ap_name);
  IPAddress ip = WiFi.softAPIP();
  Serial.printf("[portal] join Wi-Fi \"%s\" and open http://%s/\n", ap_name, ip.toString().c_str());

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
    bool ok = true;
    if (ssid.length() > 0) ok = device::remember_network(kv, ssid.c_str(), password.c_str()) && ok;
    if (code.length() > 0) {
      ok = device::store_pairing_code(kv, code.c_str()) && ok;
      device::forget_token(kv);
    }
    if (!ok) {
      server.send(400, "text/plain", "Could not save (too long, or storage failed). Go back and try again.");
      return;
    }
    saved = ssid.length() > 0 || code.length() > 0;
    server.send(200, "text/html", kSavedPage);
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
