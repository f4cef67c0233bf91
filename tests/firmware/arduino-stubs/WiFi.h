// DECLARATIONS ONLY (arduino-esp32 3.x libraries/WiFi/src/WiFiSTA.h, WiFiScan.h, WiFiAP.h,
// WiFiGeneric.h, wl_definitions.h); see README.md.
#pragma once
#include "Arduino.h"

typedef enum {
  WL_NO_SHIELD = 255, WL_STOPPED = 254, WL_IDLE_STATUS = 0, WL_NO_SSID_AVAIL = 1, WL_SCAN_COMPLETED = 2,
  WL_CONNECTED = 3, WL_CONNECT_FAILED = 4, WL_CONNECTION_LOST = 5, WL_DISCONNECTED = 6
} wl_status_t;
typedef enum { WIFI_MODE_NULL = 0, WIFI_MODE_STA, WIFI_MODE_AP, WIFI_MODE_APSTA } wifi_mode_t;
#define WIFI_STA WIFI_MODE_STA
#define WIFI_AP WIFI_MODE_AP
// WiFiScan.h: scanNetworks(true) returns WIFI_SCAN_RUNNING at once; scanComplete() is the count
// when done, or one of these.
#define WIFI_SCAN_RUNNING (-1)
#define WIFI_SCAN_FAILED (-2)

class WiFiClass {
 public:
  bool mode(wifi_mode_t);
  bool setAutoReconnect(bool autoReconnect);
  wl_status_t status();
  // STA.cpp connect(): refuses strlen(ssid) > 32 and strlen(passphrase) > 64.
  wl_status_t begin(const char* ssid, const char* passphrase = NULL, int32_t channel = 0, const uint8_t* bssid = NULL,
                    bool connect = true);
  bool disconnect(bool wifioff = false, bool eraseap = false, unsigned long timeoutLength = 100);
  String SSID() const;
  int16_t scanNetworks(bool async = false, bool show_hidden = false, bool passive = false, uint32_t max_ms_per_chan = 300,
                       uint8_t channel = 0, const char* ssid = nullptr, const uint8_t* bssid = nullptr);
  int16_t scanComplete();
  void scanDelete();
  String SSID(uint8_t networkItem);
  int32_t RSSI(uint8_t networkItem);
  bool softAP(const char* ssid, const char* passphrase = NULL, int channel = 1, int ssid_hidden = 0,
              int max_connection = 4, bool ftm_responder = false);
  bool softAPdisconnect(bool wifioff = false);
  IPAddress softAPIP();
};
extern WiFiClass WiFi;
