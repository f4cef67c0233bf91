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

#include "arduino_fs.h"
#include "camera_glue.h"
#include "clock_glue.h"
#include "device_settings.h"
#include "lifelog_config.h"
#include "nvs_store.h"
#include "portal.h"
#include "privacy_led.h"
#include "provisioning.h"
#include "src/lifelog/backoff.h"
#include "src/lifelog/capture_queue.h"
#include "src/lifelog/capture_time.h"
#include "src/lifelog/card_mount.h"
#include "src/lifelog/device_api.h"
#include "src/lifelog/heartbeat.h"
#include "src/lifelog/http.h"
#include "src/lifelog/lifecycle_api.h"
#include "src/lifelog/portal_policy.h"
#include "src/lifelog/remote_settings.h"
#include "src/lifelog/seq_allocator.h"
#include "src/lifelog/token_rotation.h"
#include "src/lifelog/uploader.h"
#include "status_led.h"
#include "tls_net.h"
#include "wifi_glue.h"

// Scheduling choice: one thread. loop() captures when the ~30 s slot is due and otherwise runs
// Uploader::step(), which sends at most one photo. On a slow link a step can take minutes (a
// 250 KB photo at 2 KB/s is two); it is bounded by the core's step budget and idle timeout, and
// from inside it (UploadIo::on_io, after every bounded wait) the watchdog is fed and a due
// capture is taken, so captures keep their rhythm. The queue on the card still has a single
// owner (this thread; the photo being sent is protected from eviction), and one frame buffer is
// never touched by two tasks (the omi capture/upload race).

namespace {

constexpr uint32_t kPortalTimeoutMs = 180000;
// The BOOT button: GPIO0, the ESP32-S3's download-mode strapping pin (ESP32-S3 datasheet,
// "Strapping Pins"), wired to the XIAO's B button (Seeed XIAO ESP32S3 schematic). Held at reset
// it enters the ROM downloader, so the deliberate act is a hold of 5 s while the camera runs.
constexpr uint8_t kBootButtonPin = 0;
constexpr uint32_t kLongPressMs = 5000;
// SPI clock for the card: SD.begin()'s default, 4 MHz (arduino-esp32 libraries/SD/src/SD.h,
// `frequency = 4000000`), which Seeed's XIAO ESP32S3 Sense examples use (`SD.begin(21)`). A
// 250 KB photo reads in about 0.6 s at that clock, far below the uplink's time to send it.
constexpr uint32_t kSdSpiHz = 4000000;
constexpr uint32_t kStatusEveryMs = 60000;
constexpr uint32_t kCardRetryMs = 10000;
constexpr uint32_t kNoCodeRecheckMs = 60000;
constexpr uint32_t kWatchdogTimeoutS = 120;  // above the longest step; catches a hung fb_get
constexpr uint32_t kIdleNapMs = 50;
constexpr uint64_t kNever = UINT64_MAX;

class HardwareRng : public lifelog::Rng {
 public:
  uint32_t next_u32() override { return esp_random(); }
};

// Progress lines on the serial console. The token never reaches this code.
class SerialUploadLog : public lifelog::UploadObserver {
 public:
  lifelog::NetClient* net = nullptr;
  char last_error[64] = {};  // for the heartbeat's status report
  void on_upload_event(const lifelog::UploadEvent& e) override {
    if (e.kind == lifelog::UploadEventKind::Retry || e.kind == lifelog::UploadEventKind::Quarantined) {
      snprintf(last_error, sizeof(last_error), "%s: HTTP %d %s", e.step, e.http_status, e.code);
    } else if (e.kind == lifelog::UploadEventKind::Ingested || e.kind == lifelog::UploadEventKind::Duplicate) {
      last_error[0] = '\0';
    }
    Serial.printf("[upload] %s seq=%u frame=%u step=%s status=%d code=%s delay_ms=%u bytes=%llu\n",
                  lifelog::upload_event_name(e.kind), unsigned(e.seq), unsigned(e.frame), e.step, e.http_status,
                  e.code, unsigned(e.delay_ms), static_cast<unsigned long long>(e.bytes));
    // "connect_failed" alone says nothing: the TLS layer's reason, in words.
    if (net && strcmp(e.code, "connect_failed") == 0 && net->last_error()[0]) {
      Serial.printf("[upload] %s\n", net->last_error());
    }
  }
};

class SerialLifecycleLog : public lifelog::LifecycleObserver {
 public:
  void on_lifecycle_event(const lifelog::LifecycleEvent& e) override {
    Serial.printf("[lifecycle] %s status=%d code=%s paused=%d interval_s=%u delay_ms=%u\n",
                  lifelog::lifecycle_event_name(e.kind), e.http_status, e.code, int(e.paused), unsigned(e.interval_s),
                  unsigned(e.delay_ms));
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
  SerialUploadLog upload_log;
  SerialLifecycleLog lifecycle_log;
  PrivacyLed privacy_led;
  device::Settings settings;
  lifelog::ApiEndpoint endpoint;

  TlsNetClient* net = nullptr;
  lifelog::HttpConnection* conn = nullptr;  // one connection for API and storage: one TLS session
  lifelog::DeviceApi* api = nullptr;
  lifelog::SeqAllocator* seqs = nullptr;
  lifelog::CaptureQueue* queue = nullptr;
  lifelog::Uploader* uploader = nullptr;
  lifelog::Backoff* activation_backoff = nullptr;
  // The device token across rotations (NVS holds the working one and a successor until it is
  // proven); heartbeat, the owner's pause and interval, rotation.
  lifelog::TokenKeeper* tokens = nullptr;
  lifelog::LifecycleApi* lifecycle_api = nullptr;
  lifelog::DeviceLifecycle* lifecycle = nullptr;
  lifelog::StepResult last_step = lifelog::StepResult::Idle;

  char token[device::kTokenCap] = {};  // activation's buffer; tokens->active() is what is sent
  uint32_t boot_id = 0;
  uint32_t frames = 0;
  bool card_ready = false;
  uint64_t next_capture_ms = 0;
  uint64_t next_card_try_ms = 0;
  uint64_t next_activation_ms = 0;
  uint64_t button_down_since_ms = 0;
  uint64_t next_status_ms = 0;
};

Device* g = nullptr;
const char* g_fatal = nullptr;  // set when the device cannot run at all

void arm_watchdog() {
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

void card_failed(const char* why) {
  Serial.printf("[card] %s: captures paused, retrying the card every %u s\n", why, unsigned(kCardRetryMs / 1000));
  g->fs.unmount();
  g->card_ready = false;
  g->led.show(LedPattern::CardError);
  g->next_card_try_ms = g->clock.monotonic_ms() + kCardRetryMs;
}

bool try_mount_card() {
  g->led.release_for_card();  // GPIO21 becomes the card's chip-select from here on
  if (!g->fs.mount()) {
    card_failed("no usable microSD card");
    return false;
  }
  if (!g->queue->begin()) {
    card_failed("card folders unusable");
    return false;
  }
  g->frames = g->queue->resume_frame_count(g->frames);
  g->card_ready = true;
  Serial.printf("[card] mounted: %u pending, %u failed, %u dropped\n", unsigned(g->queue->pending_count()),
                unsigned(g->queue->failed_count()), unsigned(g->queue->dropped()));
  return true;
}

// While a step runs, the card stays mounted: a capture that fails to write from inside the
// step reports the card failure once the step has closed its file.
bool g_uploading = false;
bool g_card_failed_later = false;

void capture_once();

bool capture_if_due(uint64_t now);

// Fed from inside every upload step (after each bounded network wait): the watchdog, and a
// capture when its slot comes up during a long PUT.
class UploadIo : public lifelog::IoListener {
 public:
  void on_io(uint64_t now_ms) override {
    esp_task_wdt_reset();
    if (g->card_ready && !g_card_failed_later) capture_if_due(now_ms);
  }
};
UploadIo g_upload_io;

// A card read error mid-upload: unmount and mount again before the photo is retried.
class CardRemount : public lifelog::CardMount {
 public:
  bool remount() override {
    g->fs.unmount();
    bool ok = g->fs.mount();
    Serial.printf("[card] remounted after a read error: %s\n", ok ? "ok" : "failed");
    return ok;
  }
};
CardRemount g_card_remount;

bool has_token() { return g->tokens ? g->tokens->has_token() : g->token[0] != '\0'; }
lifelog::TokenState token_state() { return has_token() ? lifelog::TokenState::Held : lifelog::TokenState::None; }

// No token this device holds is accepted any more (revoked): both go, a new pairing code is needed.
void forget_tokens() {
  device::forget_token(g->nvs);
  g->tokens->begin();
  g->token[0] = '\0';
  g->next_activation_ms = 0;
}

void capture_once() {
  if (!g->card_ready) {
    Serial.println("[capture] skipped: no card");
    return;
  }
  lifelog::ManifestRecord rec;
  uint32_t dropped_before = g->queue->dropped();
  lifelog::CaptureStatus st = g->queue->capture(
      g->camera, g->frames, lifelog::stamp_now(lifelog::read_clock(g->clock, g->boot_id)), &rec);
  if (g->queue->dropped() != dropped_before) {
    Serial.printf("[capture] card full: evicted %u oldest photos\n", unsigned(g->queue->dropped() - dropped_before));
  }
  switch (st) {
    case lifelog::CaptureStatus::Ok:
      ++g->frames;
      g->nvs.put_u32(device::key::kFramesDone, g->frames);
      Serial.printf("[capture] seq=%u frame=%u size=%llu ntp_synced=%d\n", unsigned(rec.seq), unsigned(rec.frame),
                    static_cast<unsigned long long>(rec.size), int(rec.stamp.ntp_synced));
      break;
    case lifelog::CaptureStatus::CameraFailed: Serial.println("[capture] camera failed"); break;
    case lifelog::CaptureStatus::NoSeq: Serial.println("[capture] NVS refused the seq reservation"); break;
    case lifelog::CaptureStatus::CardFailed:
      if (g_uploading) {
        g_card_failed_later = true;
      } else {
        card_failed("write failed");
      }
      break;
    case lifelog::CaptureStatus::CardFull:  // a card condition, not a camera or card fault
      Serial.println("[capture] card full: photo did not fit; the next capture makes more room");
      break;
  }
}

void try_activation(uint64_t now) {
  if (now < g->next_activation_ms) return;
  lifelog::ApiResult r;
  device::ActivationOutcome outcome =
      device::activate_with_pairing_code(g->nvs, g->rng, *g->api, g->token, sizeof(g->token), &r);
  switch (outcome) {
    case device::ActivationOutcome::Activated:
      Serial.println("[activate] device activated; token stored in NVS");
      g->tokens->begin();  // activation wrote the token to NVS
      g->uploader->set_token(g->tokens->active());
      g->activation_backoff->reset();
      break;
    case device::ActivationOutcome::NoCode:
      Serial.println("[activate] no token and no pairing code: use the setup portal (opens at boot while unpaired)");
      g->next_activation_ms = now + kNoCodeRecheckMs;
      break;
    case device::ActivationOutcome::Refused:
      Serial.printf("[activate] pairing code refused (status %d, %s)\n", r.status, r.code);
      g->next_activation_ms = kNever;  // until a new code arrives through the portal
      break;
    case device::ActivationOutcome::StoreFailed:
      Serial.println("[activate] NVS refused the token");
      g->next_activation_ms = now + kNoCodeRecheckMs;
      break;
    case device::ActivationOutcome::Retry: {
      uint32_t delay_ms =
          lifelog::retry_delay_ms(*g->activation_backoff, r, g->clock.wall_synced() ? g->clock.wall_utc_s() : -1);
      Serial.printf("[activate] retry in %u ms (status %d, %s)\n", unsigned(delay_ms), r.status, r.code);
      g->next_activation_ms = now + delay_ms;
      break;
    }
  }
}

void run_upload_step() {
  g_uploading = true;
  lifelog::StepResult r = g->uploader->step();
  g_uploading = false;
  if (g_card_failed_later) {
    g_card_failed_later = false;
    card_failed("write failed");
    return;
  }
  lifelog::StepResult before = g->last_step;
  g->last_step = r;
  if (r == lifelog::StepResult::TokenDead) {
    // A rotation may be half-way: the heartbeat finds out whether the other token works.
    Serial.println("[upload] token refused (401): asking the server with the heartbeat");
    g->lifecycle->check_token_now();
  } else if (r == lifelog::StepResult::StorageError) {
    card_failed("read failed during upload");
  } else if (r == lifelog::StepResult::Idle && before != lifelog::StepResult::Idle) {
    g->lifecycle->after_drain();  // report soon after a drained queue
  }
}

void run_lifecycle_step(uint64_t now) {
  if (!g->lifecycle->due()) return;
  lifelog::StatusReport report;
  report.firmware_version = lifelog::kFirmwareVersion;
  report.free_bytes = g->card_ready ? g->fs.free_bytes() : 0;
  report.queue_depth = g->card_ready ? g->queue->pending_count() : 0;
  report.dropped = g->card_ready ? g->queue->dropped() : 0;
  report.quarantined = g->card_ready ? g->queue->failed_count() : 0;
  report.last_error = g->net->last_error()[0] ? g->net->last_error() : g->upload_log.last_error;
  report.uptime_s = now / 1000;
  report.clock_synced = g->clock.wall_synced();
  switch (g->lifecycle->step(report)) {
    case lifelog::LifecycleStep::TokenChanged: g->uploader->set_token(g->tokens->active()); break;
    case lifelog::LifecycleStep::TokenDead:
      Serial.println("[lifecycle] no token is accepted (revoked): forgetting it; enter a new pairing code in the portal");
      forget_tokens();
      break;
    case lifelog::LifecycleStep::Idle:
    case lifelog::LifecycleStep::Done: break;
  }
}

void open_portal() {
  if (!run_setup_portal(g->nvs, g->led, kPortalTimeoutMs, token_state())) {
    Serial.println("[portal] closed: capturing, Wi-Fi retried in the background");
    return;
  }
  device::load_settings(g->nvs, &g->settings);
  g->wifi.begin(g->settings);
  g->next_activation_ms = 0;
}

// At boot: by itself only while the camera has no token and nothing to activate or join with.
void open_portal_if_needed() {
  char code[device::kPairingCodeCap];
  bool has_code = device::load_pairing_code(g->nvs, code, sizeof(code));
  lifelog::PortalTrigger trigger;
  trigger.token = token_state();
  if (!lifelog::portal_should_open(trigger)) return;
  if (has_code && g->settings.network_count > 0) return;  // it can activate without help
  open_portal();
}

// A 5 s hold of the BOOT button while running: the deliberate act that opens the portal on a
// camera that has a token (where a typed code still cannot replace that token).
void check_long_press(uint64_t now) {
  if (digitalRead(kBootButtonPin) != LOW) {
    g->button_down_since_ms = 0;
    return;
  }
  if (g->button_down_since_ms == 0) g->button_down_since_ms = now;
  if (now - g->button_down_since_ms < kLongPressMs) return;
  g->button_down_since_ms = 0;
  lifelog::PortalTrigger trigger;
  trigger.token = token_state();
  trigger.long_press = true;
  if (lifelog::portal_should_open(trigger)) open_portal();
}

void build_core() {
  TlsNetClient::Options net_options;
  net_options.use_tls = g->endpoint.tls;
  net_options.root_ca_pem = LIFELOG_ROOT_CA_PEM;
  g->net = new TlsNetClient(net_options);
  g->upload_log.net = g->net;
  g->conn = new lifelog::HttpConnection(*g->net);
  g->api = new lifelog::DeviceApi(*g->conn, g->endpoint);
  g->seqs = new lifelog::SeqAllocator(g->nvs);
  g->seqs->begin();
  lifelog::QueueConfig queue_config;
  g->queue = new lifelog::CaptureQueue(g->fs, g->nvs, *g->seqs, queue_config);

  lifelog::UploaderConfig upload_config;
  upload_config.device_token = g->token;  // the buffer is filled later by activation if empty
  upload_config.chunk_size = g->settings.chunk_size;
  upload_config.boot_id = g->boot_id;
  upload_config.io_listener = &g_upload_io;
  upload_config.card = &g_card_remount;
  // Batch calls need ~70 KB (a window's 32 targets, its ingest body): PSRAM, which the XIAO
  // ESP32S3 Sense has (8 MB). Without it the uploader keeps to the single routes.
  upload_config.batch = lifelog::full_window_buffers(static_cast<char*>(ps_malloc(lifelog::kBatchRequestBytes)),
                                                     static_cast<char*>(ps_malloc(lifelog::kBatchAnswerBytes + 1)));
  g->uploader = new lifelog::Uploader(*g->queue, *g->conn, *g->conn, g->clock, g->rng, g->endpoint, upload_config,
                                      &g->upload_log);
  g->activation_backoff = new lifelog::Backoff(lifelog::BackoffConfig(), g->rng);

  g->tokens = new lifelog::TokenKeeper(g->nvs);
  g->tokens->begin();
  g->uploader->set_token(g->tokens->active());
  g->lifecycle_api = new lifelog::LifecycleApi(*g->conn, g->endpoint);
  g->lifecycle = new lifelog::DeviceLifecycle(*g->lifecycle_api, *g->tokens, g->nvs, g->clock, g->rng,
                                              lifelog::HeartbeatConfig(), &g->privacy_led, &g->lifecycle_log);
  g->lifecycle->begin();  // the owner's last pause/interval from NVS, shown on the privacy LED
}

bool capture_if_due(uint64_t now) {
  if (now < g->next_capture_ms) return false;
  // Paused by the owner: no photo at all; the first slot after a resume is taken at once.
  if (g->lifecycle->settings().paused) return false;
  capture_once();
  uint64_t interval_ms =
      lifelog::capture_interval_ms(g->lifecycle->settings(), uint64_t(g->settings.capture_interval_s) * 1000);
  g->next_capture_ms += interval_ms;
  if (g->next_capture_ms < now) g->next_capture_ms = now + interval_ms;
  return true;
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
  if (!device::load_settings(g->nvs, &g->settings) || !lifelog::parse_base_url(g->settings.api_base_url, &g->endpoint)) {
    g_fatal = "no usable API URL in NVS";
    return;
  }
  g->boot_id = lifelog::next_boot_id(g->nvs);
  g->endpoint.boot_id = g->boot_id;
  g->endpoint.clock = &g->clock;
  g->nvs.get_u32(device::key::kFramesDone, &g->frames);
  g->clock.begin();

  CameraSettings camera_settings;
  camera_settings.frame_size = g->settings.frame_size;
  camera_settings.jpeg_quality = int(g->settings.jpeg_quality);
  if (!g->camera.begin(camera_settings)) Serial.println("[camera] init failed; retried at each capture");

  pinMode(kBootButtonPin, INPUT_PULLUP);
  g->wifi.begin(g->settings);  // joins in the background (maintain() in the loop)
  if (!device::load_token(g->nvs, g->token, sizeof(g->token))) g->token[0] = '\0';
  open_portal_if_needed();

  build_core();
  try_mount_card();
  Serial.printf("[setup] boot %u, frame %u, api %s://%s:%u, token %s\n", unsigned(g->boot_id), unsigned(g->frames),
                g->endpoint.tls ? "https" : "http", g->endpoint.host, unsigned(g->endpoint.port),
                has_token() ? "present" : "missing");
  arm_watchdog();
  g->next_capture_ms = g->clock.monotonic_ms();
}

void device_loop() {
  if (g_fatal) {
    Serial.printf("[fatal] %s; restarting in 30 s\n", g_fatal);
    delay(30000);
    ESP.restart();
  }
  esp_task_wdt_reset();
  uint64_t now = g->clock.monotonic_ms();
  g->led.tick(now);
  if (!g->card_ready && now >= g->next_card_try_ms) try_mount_card();

  g->wifi.maintain(now);
  bool online = g->wifi.connected();
  if (online) g->clock.start_sntp(g->settings.time_zone);
  uint32_t fixed = 0;
  if (g->card_ready && g->queue->correct_times_after_sync(g->clock, g->boot_id, &fixed)) {
    Serial.printf("[clock] NTP synced; %u timestamps corrected\n", unsigned(fixed));
  }

  check_long_press(now);
  if (now >= g->next_status_ms) {
    g->next_status_ms = now + kStatusEveryMs;
    Serial.printf("[status] wifi=%s token=%s card=%s pending=%u link=%s\n", online ? g->wifi.current_ssid() : "(offline)",
                  has_token() ? "present" : "missing", g->card_ready ? "ok" : "none",
                  g->card_ready ? unsigned(g->queue->pending_count()) : 0u, g->net->last_error()[0] ? g->net->last_error() : "ok");
  }
  if (capture_if_due(now)) return;
  if (online && !has_token()) {
    try_activation(now);
  } else if (online) {
    run_lifecycle_step(now);
    if (has_token() && g->card_ready) run_upload_step();
  }
  now = g->clock.monotonic_ms();
  if (now < g->next_capture_ms) {
    uint64_t nap = g->next_capture_ms - now;
    delay(uint32_t(nap < kIdleNapMs ? nap : kIdleNapMs));
  }
}
