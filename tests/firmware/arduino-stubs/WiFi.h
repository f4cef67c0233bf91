// DECLARATIONS ONLY (arduino-esp32 libraries/WiFi/src/WiFi*.h, wl_definitions.h); see README.md.
#pragma once
#include "Arduino.h"

typedef enum { WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_CONNECTED = 3, WL_DISCONNECTED = 6 } wl_status_t;
typedef enum { WIFI_MODE_NULL = 0, WIFI_MODE_STA, WIFI_MODE_AP, WIFI_MODE_APSTA } wifi_mode_t;
#define WIFI_STA WIFI_MODE_STA
#define WIFI_AP WIFI_MODE_AP

class WiFiClass {
 public:
  bool mode(wifi_mode_t);
  bool setAutoReconnect(bool autoReconnect);
  wl_status_t status();
  bool softAP(const char* ssid, const char* passphrase = NULL, int channel = 1, int ssid_hidden = 0,
              int max_connection = 4, bool ftm_responder = false);
  bool softAPdisconnect(bool wifioff = false);
  IPAddress softAPIP();
};
extern WiFiClass WiFi;
