#include "device_app.h"

#include <Arduino.h>
#include <esp_idf_version.h>
#if __has_include(<esp_random.h>)
#include <esp_random.h>  // IDF 5
#else
#include <esp_system.h>
#endif
#include <esp_task_wdt.h>

#include <cstdio>
#include <cstring>

#include "arduino_fs.h"
#include "camera_glue.h"
#include "clock_glue.h"
#include "device_settings.h"
#include "lifelog_config.h"
#include "lifelog_core.h"
#include "nvs_store.h"
#include "ota_glue.h"
#include "portal.h"
#include "privacy_led.h"
#include "provisioning.h"
#include "status_led.h"
#include "tls_net.h"
#include "wifi_glue.h"

// The release public key (hex) may come with the rendered config; without it the camera does
// not update over the air.
#ifndef LIFELOG_RELEASE_PUBLIC_KEY_HEX
#define LIFELOG_RELEASE_PUBLIC_KEY_HEX ""
#endif

// The board's adapters around the core's DeviceLoop (lifelog/device_loop.h), which makes
// every decision of a loop turn, exactly as it does in sim-camera. This file only reads the
// config, builds the adapters and prints the loop's events on the serial console.

namespace {

constexpr uint32_t kPortalTimeoutMs = 180000;
// The BOOT button: GPIO0, the ESP32-S3's download-mode strapping pin (ESP32-S3 datasheet,
// "Strapping Pins"), wired to the XIAO's B button (Seeed XIAO ESP32S3 schematic). Held at reset
// it enters the ROM downloader, so the deliberate act is a hold while the camera runs.
constexpr uint8_t kBootButtonPin = 0;
// SPI clock for the card: SD.begin()'s default, 4 MHz (arduino-esp32 libraries/SD/src/SD.h,
// `frequency = 4000000`), which Seeed's XIAO ESP32S3 Sense examples use (`SD.begin(21)`). A
// 250 KB photo reads in about 0.6 s at that clock, far below the uplink's time to send it.
constexpr uint32_t kSdSpiHz = 4000000;
constexpr uint32_t kWatchdogTimeoutS = 120;  // above the longest step; catches a hung fb_get
constexpr uint32_t kIdleNapMs = 50;          // the button, the LED and Wi-Fi are polled this often

class HardwareRng : public lifelog::Rng {
 public:
  uint32_t next_u32() override { return esp_random(); }
};

class TaskWatchdog : public lifelog::Watchdog {
 public:
  void subscribe() override {
#if ESP_IDF_VERSION_MAJOR >= 5
    esp_task_wdt_config_t cfg = {};
    cfg.timeout_ms = kWatchdogTimeoutS * 1000;
    cfg.idle_core_mask = 0;
    cfg.trigger_panic = true;
    if (esp_task_wdt_reconfigure(&cfg) != ESP_OK) esp_task_wdt_init(&cfg);
#else
    esp_task_wdt_init(kWatchdogTimeoutS, true);
#endif
    esp_task_wdt_add(nullptr);
  }
  bool feed() override { return esp_task_wdt_reset() == ESP_OK; }
};

// GPIO21 is the card's chip-select and the LED: handed to the SPI driver before every mount.
class SdSlot : public lifelog::CardSlot {
 public:
  SdSlot(ArduinoFileSystem& fs, StatusLed& led) : fs_(fs), led_(led) {}
  bool mount() override {
    led_.release_for_card();
    return fs_.mount();
  }
  void unmount() override { fs_.unmount(); }

 private:
  ArduinoFileSystem& fs_;
  StatusLed& led_;
};

class WifiUplink : public lifelog::NetworkLink {
 public:
  WifiUplink(WifiLink& wifi, DeviceClock& clock, const device::Settings& settings)
      : wifi_(wifi), clock_(clock), settings_(settings) {}
  void maintain(uint64_t now_ms) override {
    wifi_.maintain(now_ms);
    if (wifi_.connected()) clock_.start_sntp(settings_.time_zone);
  }
  bool connected() override { return wifi_.connected(); }
  bool has_networks() override { return settings_.network_count > 0; }
  const char* name() override { return wifi_.current_ssid(); }

 private:
  WifiLink& wifi_;
  DeviceClock& clock_;
  const device::Settings& settings_;
};

// After a saved form the networks are read again and joined; a typed pairing code is in NVS,
// where the loop's activation finds it.
class BoardPortal : public lifelog::SetupPortal {
 public:
  BoardPortal(NvsStore& nvs, StatusLed& led, WifiLink& wifi, device::Settings& settings)
      : nvs_(nvs), led_(led), wifi_(wifi), settings_(settings) {}
  bool run(lifelog::TokenState token) override {
    if (!run_setup_portal(nvs_, led_, kPortalTimeoutMs, token)) return false;
    device::load_settings(nvs_, &settings_);
    wifi_.begin(settings_);
    return true;
  }
  bool button_down() override { return digitalRead(kBootButtonPin) == LOW; }

 private:
  NvsStore& nvs_;
  StatusLed& led_;
  WifiLink& wifi_;
  device::Settings& settings_;
};

class BoardLight : public lifelog::StatusLight {
 public:
  explicit BoardLight(StatusLed& led) : led_(led) {}
  void card_failed() override { led_.show(LedPattern::CardError); }
  void tick(uint64_t now_ms) override { led_.tick(now_ms); }

 private:
  StatusLed& led_;
};

// Progress lines on the serial console. The token never reaches this code.
class SerialLog : public lifelog::UploadObserver, public lifelog::LifecycleObserver, public lifelog::LoopObserver {
 public:
  lifelog::NetClient* net = nullptr;

  void on_upload_event(const lifelog::UploadEvent& e) override {
    Serial.printf("[upload] %s seq=%u frame=%u step=%s status=%d code=%s delay_ms=%u bytes=%llu\n",
                  lifelog::upload_event_name(e.kind), unsigned(e.seq), unsigned(e.frame), e.step, e.http_status,
                  e.code, unsigned(e.delay_ms), static_cast<unsigned long long>(e.bytes));
    // "connect_failed" alone says nothing: the TLS layer's reason, in words.
    if (net && strcmp(e.code, "connect_failed") == 0 && net->last_error()[0]) {
      Serial.printf("[upload] %s\n", net->last_error());
    }
  }

  void on_lifecycle_event(const lifelog::LifecycleEvent& e) override {
    Serial.printf("[lifecycle] %s status=%d code=%s paused=%d interval_s=%u delay_ms=%u\n",
                  lifelog::lifecycle_event_name(e.kind), e.http_status, e.code, int(e.paused), unsigned(e.interval_s),
                  unsigned(e.delay_ms));
  }

  void on_loop_event(const lifelog::LoopEvent& e) override {
    using K = lifelog::LoopEventKind;
    switch (e.kind) {
      case K::CardMounted: Serial.printf("[card] mounted: %u pending\n", unsigned(e.count)); break;
      case K::CardFailed:
        Serial.printf("[card] %s: captures paused, retrying the card every %u s\n", e.text, unsigned(e.delay_ms / 1000));
        break;
      case K::CardRemounted: Serial.printf("[card] remounted after a read error: %s\n", e.ok ? "ok" : "failed"); break;
      case K::Captured:
        Serial.printf("[capture] seq=%u frame=%u size=%llu ntp_synced=%d\n", unsigned(e.record->seq),
                      unsigned(e.record->frame), static_cast<unsigned long long>(e.record->size),
                      int(e.record->stamp.ntp_synced));
        break;
      case K::CaptureFailed: Serial.printf("[capture] failed: %s\n", lifelog::capture_status_name(e.capture)); break;
      case K::Evicted: Serial.printf("[capture] card full: evicted %u oldest photos\n", unsigned(e.count)); break;
      case K::ClockSynced: Serial.printf("[clock] NTP synced; %u timestamps corrected\n", unsigned(e.count)); break;
      case K::Activated: Serial.println("[activate] device activated; token stored in NVS"); break;
      case K::ActivationNoCode:
        Serial.println("[activate] no token and no pairing code: use the setup portal (opens at boot while unpaired)");
        break;
      case K::ActivationRetry:
        Serial.printf("[activate] retry in %u ms (status %d, %s)\n", unsigned(e.delay_ms), e.http_status, e.code);
        break;
      case K::ActivationRefused:
        Serial.printf("[activate] pairing code refused (status %d, %s)\n", e.http_status, e.code);
        break;
      case K::ActivationStoreFailed: Serial.println("[activate] NVS refused the token"); break;
      case K::UploadTokenRefused:
        Serial.println("[upload] token refused (401): asking the server with the heartbeat");
        break;
      case K::TokenDead:
        Serial.println("[lifecycle] no token is accepted (revoked): forgetting it; enter a new pairing code in the portal");
        break;
      case K::PortalClosed: Serial.println("[portal] closed: capturing, Wi-Fi retried in the background"); break;
      case K::PortalSaved: Serial.println("[portal] saved"); break;
      case K::Status:
        Serial.printf("[status] wifi=%s token=%s card=%s pending=%u link=%s\n",
                      e.status->online ? e.status->network : "(offline)", e.status->has_token ? "present" : "missing",
                      e.status->card_ready ? "ok" : "none", unsigned(e.status->pending),
                      e.status->link_error[0] ? e.status->link_error : "ok");
        break;
      case K::Ota:
        Serial.printf("[ota] %s%s%s (%u bytes in the slot)\n", e.ok ? e.text : "link down, retrying: ", e.ok ? "" : e.text,
                      e.code[0] ? e.code : "", unsigned(e.count));
        break;
      case K::RebootForUpdate:
        Serial.printf("[ota] %s verified and set to boot: restarting\n", e.text);
        restart_for_update();
        break;
      case K::OtaProgress:
      case K::CaptureBegin:
      case K::StepBegin:
      case K::StepEnd: break;
    }
  }
};

// Everything long-lived, allocated once in setup(): the core's objects hold several KB of
// buffers each, far too much for the loop task's stack.
struct Device {
  NvsStore nvs;
  ArduinoFileSystem fs{kSdSpiHz};
  DeviceClock clock;
  XiaoCamera camera;
  StatusLed led;
  WifiLink wifi;
  HardwareRng rng;
  TaskWatchdog watchdog;
  SerialLog log;
  PrivacyLed privacy_led;
  device::Settings settings;
  SdSlot slot{fs, led};
  WifiUplink uplink{wifi, clock, settings};
  BoardPortal portal{nvs, led, wifi, settings};
  BoardLight light{led};
  lifelog::DeviceLoopConfig cfg;
  EspUpdatePartition update_slot;
  EspBootState boot_state;
  lifelog::OtaTrustedKey release_key;
};

Device* g = nullptr;
lifelog::DeviceLoop* g_loop = nullptr;
const char* g_fatal = nullptr;  // set when the device cannot run at all

void build_loop() {
  TlsNetClient::Options net_options;
  net_options.use_tls = g->cfg.endpoint.tls;
  net_options.root_ca_pem = LIFELOG_ROOT_CA_PEM;
  TlsNetClient* net = new TlsNetClient(net_options);
  g->log.net = net;
  // One connection for API and storage: one TLS session.
  lifelog::HttpConnection* conn = new lifelog::HttpConnection(*net);
  g->cfg.capture_interval_ms = uint64_t(g->settings.capture_interval_s) * 1000;
  g->cfg.first_contact_spread_ms = 30000;  // a fleet back online together spreads its first calls
  g->cfg.upload.chunk_size = g->settings.chunk_size;
  // Batch calls need ~70 KB (a window's 32 targets, its ingest body): PSRAM, which the XIAO
  // ESP32S3 Sense has (8 MB). Without it the uploader keeps to the single routes.
  g->cfg.upload.batch = lifelog::full_window_buffers(static_cast<char*>(ps_malloc(lifelog::kBatchRequestBytes)),
                                                     static_cast<char*>(ps_malloc(lifelog::kBatchAnswerBytes + 1)));
  lifelog::DevicePlatform* platform =
      new lifelog::DevicePlatform{g->fs,       g->slot,   g->nvs,   *conn,  *conn,  *net,   g->clock,   g->camera,
                                  g->watchdog, g->uplink, g->portal, g->light, g->rng, g->rng, g->log,
                                  &g->log,     &g->log,   &g->privacy_led};
  // Updates over the air only with a release key built in and a second app slot.
  if (parse_release_key(LIFELOG_RELEASE_PUBLIC_KEY_HEX, &g->release_key) && g->update_slot.usable()) {
    platform->ota = new lifelog::OtaUpdater(g->update_slot, g->boot_state, g->nvs, &g->release_key, 1,
                                            g->cfg.heartbeat.firmware_version);
  }
  g_loop = new lifelog::DeviceLoop(*platform, g->cfg);
}

}  // namespace

void device_setup() {
  Serial.begin(115200);
  g = new Device();
  if (!g->nvs.begin()) {
    g_fatal = "NVS partition unavailable";
    return;
  }
  device::ProvisionResult provisioned = device::provision_from_config(g->nvs);
  if (provisioned == device::ProvisionResult::StoreFailed) Serial.println("[setup] provisioning incomplete; retried next boot");
  if (provisioned == device::ProvisionResult::Provisioned) Serial.println("[setup] config written to NVS");
  if (!device::load_settings(g->nvs, &g->settings) || !lifelog::parse_base_url(g->settings.api_base_url, &g->cfg.endpoint)) {
    g_fatal = "no usable API URL in NVS";
    return;
  }
  g->cfg.boot_id = lifelog::next_boot_id(g->nvs);
  g->clock.begin();

  CameraSettings camera_settings;
  camera_settings.frame_size = g->settings.frame_size;
  camera_settings.jpeg_quality = int(g->settings.jpeg_quality);
  if (!g->camera.begin(camera_settings)) Serial.println("[camera] init failed; retried at each capture");

  pinMode(kBootButtonPin, INPUT_PULLUP);
  g->wifi.begin(g->settings);  // joins in the background (maintain() in the loop)
  build_loop();
  g_loop->begin();  // the watchdog, then the portal if the camera cannot start without it, the card
  const lifelog::ApiEndpoint& ep = g->cfg.endpoint;
  Serial.printf("[setup] boot %u, frame %u, api %s://%s:%u, token %s\n", unsigned(g->cfg.boot_id),
                unsigned(g_loop->frames()), ep.tls ? "https" : "http", ep.host, unsigned(ep.port),
                g_loop->has_token() ? "present" : "missing");
}

void device_loop() {
  if (g_fatal) {
    Serial.printf("[fatal] %s; restarting in 30 s\n", g_fatal);
    delay(30000);
    ESP.restart();
  }
  lifelog::TurnResult t = g_loop->turn();
  uint64_t now = g->clock.monotonic_ms();
  if (t.wake_at_ms > now) {
    uint64_t nap = t.wake_at_ms - now;
    delay(uint32_t(nap < kIdleNapMs ? nap : kIdleNapMs));
  }
}
