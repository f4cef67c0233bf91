// sim-camera: the board's device loop (core/include/lifelog/device_loop.h) running on a PC, with a
// folder as the SD card, a file as NVS and plain TCP as Wi-Fi. This file only builds the adapters,
// turns flags into the loop's config and ends the run at the events below. Safe to SIGKILL at any
// instant and restart with the same card/NVS.
//
// Exit codes: 0 drained, 2 usage error, 3 token dead (401), 4 activation refused,
//             5 card or NVS unusable, 6 --max-runtime-ms reached, 7 the modelled watchdog fired,
//             8 restart me: the updater set the other slot to boot (or rolled back), 9 the running
//             image crashed at boot (a sim image with boot=crash; host/sim_image.h).
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <random>
#include <string>

#include <unistd.h>

#include "batch_buffers.h"
#include "file_kv.h"
#include "file_ota.h"
#include "sim_image.h"
#include "host_cameras.h"
#include "host_clock.h"
#include "lifelog/activation_key.h"
#include "lifelog/config_limits.h"
#include "lifelog/device_loop.h"
#include "no_ui.h"
#include "posix_fs.h"
#include "sim_lifecycle.h"
#include "sim_log.h"
#include "sim_options.h"
#include "support/fat_card.h"
#include "tcp_net.h"

using namespace lifelog;

namespace {

// Entropy for the activation key (the jitter RNG is seeded for reproducible runs).
class SystemRng : public Rng {
 public:
  uint32_t next_u32() override { return device_(); }

 private:
  std::random_device device_;
};

enum ExitCode {
  kDrained = 0, kUsage = 2, kTokenDead = 3, kActivationRefused = 4, kCardFailed = 5, kTimeout = 6, kWatchdog = 7,
  kReboot = 8, kCrashAtBoot = 9
};

bool parse_key_hex(const std::string& hex, OtaTrustedKey* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1) return false;
    out->public_key[i] = uint8_t(v);
  }
  return true;
}

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}


// The platform's adapters. A folder (or FatCard) is always mounted; the link is up once the
// simulated offline stretch is over; there is no portal (the pairing code comes as a flag) and
// no button or LED.
class HostSlot : public CardSlot {
 public:
  bool mount() override { return true; }
  void unmount() override {}
};

class HostLink : public NetworkLink {
 public:
  explicit HostLink(uint64_t online_from_ms) : online_from_ms_(online_from_ms) {}
  void maintain(uint64_t now_ms) override { now_ms_ = now_ms; }
  bool connected() override { return now_ms_ >= online_from_ms_; }
  bool has_networks() override { return true; }
  const char* name() override { return "loopback"; }

 private:
  uint64_t online_from_ms_;
  uint64_t now_ms_ = 0;
};

// The task watchdog as the board arms it (WatchdogModel: a late feed is a reset, a feed before
// subscribing is refused).
class ModelWatchdog : public Watchdog {
 public:
  ModelWatchdog(uint32_t timeout_ms, Clock& clock) : model(timeout_ms), clock_(clock) {}
  void subscribe() override { model.subscribe(clock_.monotonic_ms()); }
  bool feed() override { return model.feed(clock_.monotonic_ms()); }
  WatchdogModel model;

 private:
  Clock& clock_;
};

// The loop's events as log lines, the card meters of a FatCard run, and the events at which
// sim-camera ends (their exit codes).
class LoopLog : public LoopObserver {
 public:
  LoopLog(Log& log, FatCard* fat) : log_(log), fat_(fat) {}
  DeviceLoop* loop = nullptr;
  int exit_code = -1;
  const char* exit_state = "";
  uint64_t max_capture_reads = 0, max_step_reads = 0;  // FatCard: the dearest single capture / upload step
  uint64_t step_budget_ms = 0;
  const WatchdogModel* watchdog = nullptr;
  uint64_t reads() const { return fat_ ? fat_->sector_reads : 0; }

  void on_loop_event(const LoopEvent& e) override {
    const char* name = loop_event_name(e.kind);
    switch (e.kind) {
      case LoopEventKind::CaptureBegin: capture_reads_ = reads(); return;
      case LoopEventKind::StepBegin: step_reads_ = reads(); return;
      case LoopEventKind::Captured: {
        meter_capture();
        const ManifestRecord& rec = *e.record;
        log_.event(name, {{"seq", num(rec.seq)}, {"frame", num(rec.frame)}, {"size", num(rec.size)},
                          {"sha256", rec.sha256}, {"ntp_synced", boolean(rec.stamp.ntp_synced)}});
        return;
      }
      case LoopEventKind::CaptureFailed:
        meter_capture();
        log_.event(name, {{"frame", num(e.frame)}, {"reason", capture_status_name(e.capture)}});
        return;
      case LoopEventKind::Evicted: log_.event(name, {{"count", num(e.count)}, {"dropped", num(e.total)}}); return;
      case LoopEventKind::ClockSynced: log_.event(name, {{"corrected", num(e.count)}}); return;
      case LoopEventKind::StepEnd:
        if (reads() - step_reads_ > max_step_reads) max_step_reads = reads() - step_reads_;
        if (e.ms >= 1000) {
          log_.event(name, {{"ms", num(e.ms)}, {"budget_ms", num(step_budget_ms)},
                            {"watchdog_max_gap_ms", num(watchdog->max_gap_ms())}});
        }
        return;
      case LoopEventKind::Activated: log_.event(name, {{"device_id", e.text}}); return;
      case LoopEventKind::ActivationRetry:
        log_.event("retry", {{"step", "activate"}, {"status", num(uint64_t(e.http_status))}, {"code", e.code},
                             {"delay_ms", num(e.delay_ms)}});
        return;
      case LoopEventKind::ActivationRefused:
        log_.event(name, {{"status", num(uint64_t(e.http_status))}, {"code", e.code}});
        return end(kActivationRefused, "activation_refused");
      case LoopEventKind::ActivationStoreFailed:
      case LoopEventKind::ActivationNoCode:
        log_.event(name, {});
        return end(e.kind == LoopEventKind::ActivationNoCode ? kUsage : kCardFailed, "error");
      case LoopEventKind::TokenDead:
        // Before the loop forgets the token: a restart tries the refused token again.
        log_.event(name, {{"pending", num(e.count)}});
        return end(kTokenDead, "token_dead");
      case LoopEventKind::CardFailed: log_.event("card_error", {{"reason", e.text}}); return;
      case LoopEventKind::CardRemounted: log_.event(name, {{"ok", boolean(e.ok)}}); return;
      case LoopEventKind::Status:
        log_.event(name, {{"online", boolean(e.status->online)}, {"token", boolean(e.status->has_token)},
                          {"card", boolean(e.status->card_ready)}, {"pending", num(e.status->pending)},
                          {"link_error", e.status->link_error}});
        return;
      case LoopEventKind::CardMounted:
      case LoopEventKind::UploadTokenRefused:
      case LoopEventKind::PortalClosed:
      case LoopEventKind::PortalSaved: return;
      case LoopEventKind::Ota:
        log_.event(e.ok ? "ota" : "ota_link_down", {{"state", e.text}, {"error", e.code}, {"bytes_done", num(e.count)},
                                                   {"bytes_fetched", num(e.total)}});
        return;
      case LoopEventKind::OtaProgress:
        log_.event(name, {{"bytes_done", num(e.count)}, {"bytes_fetched", num(e.total)}});
        return;
      case LoopEventKind::RebootForUpdate:
        log_.event(name, {{"version", e.text}});
        return end(kReboot, "reboot");
    }
  }

 private:
  void meter_capture() {
    if (reads() - capture_reads_ > max_capture_reads) max_capture_reads = reads() - capture_reads_;
  }
  void end(int code, const char* state) {
    exit_code = code;
    exit_state = state;
    loop->stop();
  }
  Log& log_;
  FatCard* fat_;
  uint64_t capture_reads_ = 0, step_reads_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  SimOptions o;
  if (!parse_sim_args(argc, argv, &o)) {
    print_usage();
    return kUsage;
  }
  ApiEndpoint endpoint;
  if (!parse_base_url(o.api.c_str(), &endpoint)) {
    fprintf(stderr, "sim-camera: cannot parse --api '%s'\n", o.api.c_str());
    return kUsage;
  }
  if (endpoint.tls) {
    fprintf(stderr, "sim-camera: https is the device's job; the simulator speaks plain http\n");
    return kUsage;
  }
  if (o.fat_card_bytes == 0) mkdir(o.card.c_str(), 0755);

  HostClock host_clock(o.ntp_after_ms);
  // A simulated offline stretch ends at the real now: the server refuses a captured_at more
  // than a day ahead of its own clock, so a simulated week may not run into the future.
  SimClock sim_clock(int64_t(time(nullptr)) - int64_t(o.offline_ms / 1000), o.ntp_after_ms);
  Clock& clock = o.sim_clock ? static_cast<Clock&>(sim_clock) : static_cast<Clock&>(host_clock);
  auto nap = [&](uint64_t ms) {
    if (!o.sim_clock) return HostClock::sleep_ms(ms);
    // Past the offline stretch the simulated clock has reached the real now, and the server's
    // rate limits run on real time: from then on a wait (a 429's Retry-After) passes for real.
    if (sim_clock.monotonic_ms() >= o.offline_ms) HostClock::sleep_ms(ms);
    sim_clock.sleep_ms(ms);
  };
  Log log(o.log_json, clock);
  FileKeyValueStore file_kv(o.nvs);
  if (!file_kv.load()) {
    fprintf(stderr, "sim-camera: cannot read NVS file '%s'\n", o.nvs.c_str());
    return kCardFailed;
  }
  CrashingKv kv(file_kv, o.life.crash_at);
  uint32_t boot_id = next_boot_id(kv);
  if (boot_id == 0) return kCardFailed;
  char held[kMaxDeviceToken];
  if (!(kv.get_str(kDeviceTokenKey, held, sizeof(held)) && held[0])) {
    // A code given on an earlier boot that never got online is still in NVS (as on the board).
    char stored_code[kMaxPairingCodeBytes + 1];
    bool have_code = kv.get_str(kPairingCodeKey, stored_code, sizeof(stored_code)) && stored_code[0];
    if (o.pairing_code.empty() && !have_code) {
      fprintf(stderr, "sim-camera: NVS holds no device token and no pairing code; pass --pairing-code\n");
      return kUsage;
    }
    if (!o.pairing_code.empty() && !kv.put_str(kPairingCodeKey, o.pairing_code.c_str())) return kCardFailed;
  }

  // The two app slots and the bootloader (host/file_ota.h): which image runs is decided here, at
  // every start, and its header says its version and how it behaves (host/sim_image.h).
  std::string running_version = kFirmwareVersion;
  std::unique_ptr<FileBootState> boot_state;
  std::unique_ptr<FileUpdatePartition> update_slot;
  std::unique_ptr<OtaUpdater> updater;
  OtaTrustedKey release_key;
  SimImage image;
  if (!o.ota_key_hex.empty()) {
    if (!parse_key_hex(o.ota_key_hex, &release_key)) {
      fprintf(stderr, "sim-camera: --ota-key is not 64 hex digits\n");
      return kUsage;
    }
    boot_state.reset(new FileBootState(o.ota_dir.empty() ? folder_of(o.nvs) : o.ota_dir));
    if (!boot_state->power_on()) return kCardFailed;
    if (read_sim_image(boot_state->slot_path(boot_state->running_slot()), &image)) running_version = image.version;
    log.event("ota_boot", {{"slot", num(uint64_t(boot_state->running_slot()))}, {"version", running_version},
                           {"pending", boolean(boot_state->pending_verify())}, {"image_boot", image.boot}});
    if (image.boot == "crash") return kCrashAtBoot;
    boot_state->on_reboot = [&log] {
      log.event("rollback_reboot", {});
      fflush(stdout);
      _exit(kReboot);
    };
    update_slot.reset(new FileUpdatePartition(*boot_state, 0x330000));
    OtaLimits limits;
    limits.confirm_deadline_ms = o.ota_confirm_ms;
    updater.reset(new OtaUpdater(*update_slot, *boot_state, kv, &release_key, 1, running_version.c_str(), limits));
    if (image.boot == "silent") endpoint.port = 9;  // nothing listens: this image never reaches the server
  }

  std::unique_ptr<FileSystem> card;
  if (o.fat_card_bytes > 0) card.reset(new FatCard(o.fat_card_bytes));
  else card.reset(new PosixFileSystem(o.card, o.card_capacity));
  FatCard* fat = o.fat_card_bytes > 0 ? static_cast<FatCard*>(card.get()) : nullptr;

  TcpNetClient api_net(o.net_timeout_ms), storage_net(o.net_timeout_ms);
  HttpConnection api_conn(api_net), storage_conn(storage_net);
  IoTiming timing;
  timing.clock = &clock;
  timing.idle_timeout_ms = uint32_t(o.net_timeout_ms);
  api_conn.set_timing(timing);
  storage_conn.set_timing(timing);
  XorShiftRng rng(o.seed * 2654435761u + boot_id);
  SystemRng entropy;

  SyntheticJpegCamera synthetic(o.photo_size, o.seed, o.photo_size_max);
  FixtureCamera fixtures(o.fixtures.empty() ? std::string("/nonexistent") : o.fixtures);
  if (!o.fixtures.empty() && !fixtures.ok()) {
    fprintf(stderr, "sim-camera: no .jpg files in '%s'\n", o.fixtures.c_str());
    return kUsage;
  }
  Camera& camera = o.fixtures.empty() ? static_cast<Camera&>(synthetic) : static_cast<Camera&>(fixtures);

  HostSlot slot;
  HostLink link(o.offline_ms);
  NoPortal portal;
  NoLight light;
  ModelWatchdog watchdog(o.watchdog_ms, clock);
  LoggingObserver upload_log(log);
  LifecycleLog lifecycle_log([&log](const char* name, std::initializer_list<std::pair<const char*, std::string>> f) {
    log.event(name, f);
  });
  LoopLog loop_log(log, fat);
  loop_log.step_budget_ms = o.step_budget_ms;
  loop_log.watchdog = &watchdog.model;
  DevicePlatform platform{*card, slot, kv, api_conn, storage_conn, api_net, clock, camera, watchdog, link, portal,
                          light, entropy, rng, loop_log, &upload_log, &lifecycle_log, &lifecycle_log};
  platform.ota = updater.get();

  DeviceLoopConfig cfg;
  cfg.endpoint = endpoint;
  cfg.boot_id = boot_id;
  cfg.capture_interval_ms = o.interval_ms;
  cfg.first_contact_spread_ms = o.first_contact_spread_ms;
  cfg.capture_limit = o.photos >= 0 ? uint32_t(o.photos) : 0;
  cfg.queue.min_free_bytes = o.min_free_bytes;
  cfg.heartbeat = heartbeat_config(o.life);
  cfg.heartbeat.firmware_version = running_version.c_str();
  cfg.activation_backoff.base_ms = o.backoff_base_ms;
  cfg.activation_backoff.cap_ms = o.backoff_cap_ms;
  UploaderConfig& ucfg = cfg.upload;
  ucfg.chunk_size = o.chunk_size;
  ucfg.backoff = cfg.activation_backoff;
  ucfg.clock_wait_ms = o.clock_wait_ms;
  ucfg.idle_timeout_ms = uint32_t(o.net_timeout_ms);
  ucfg.step_budget_ms = o.step_budget_ms;
  // The board's glue gives these from PSRAM; sized for a full window of targets.
  HostBatchBuffers batch_buffers;
  ucfg.max_batch = o.batch;
  ucfg.batch = batch_buffers.view();

  DeviceLoop loop(platform, cfg);
  loop_log.loop = &loop;
  loop.begin();
  if (!loop.card_ready()) {
    fprintf(stderr, "sim-camera: card folder '%s' is unusable\n", o.card.c_str());
    return kCardFailed;
  }
  if (o.life.rotate_now) loop.request_rotation();
  CaptureQueue& queue = loop.queue();
  log.event("boot", {{"boot_id", num(boot_id)}, {"frames_done", num(loop.frames())},
                     {"pending", num(queue.pending_count())}, {"dropped", num(queue.dropped())}});
  write_status(o, "running", &queue, loop.frames());

  for (;;) {
    uint64_t now = clock.monotonic_ms();
    if (o.max_runtime_ms >= 0 && now >= uint64_t(o.max_runtime_ms)) {
      log.event("timeout", {{"pending", num(queue.pending_count())}});
      write_status(o, "timeout", &queue, loop.frames());
      return kTimeout;
    }
    TurnResult t = loop.turn();
    if (watchdog.model.fired()) {
      log.event("watchdog_reset", {{"max_gap_ms", num(watchdog.model.max_gap_ms())}});
      write_status(o, "watchdog_reset", &queue, loop.frames());
      return kWatchdog;
    }
    if (loop_log.exit_code >= 0) {
      write_status(o, loop_log.exit_state, &queue, loop.frames());
      return loop_log.exit_code;
    }
    if (t.stepped && t.step == StepResult::Idle && o.exit_when_drained && !loop.capturing()) {
      log.event("drained", {{"frames", num(loop.frames())}, {"failed", num(queue.failed_count())},
                            {"dropped", num(queue.dropped())}, {"card_sector_reads", num(loop_log.reads())},
                            {"card_max_capture_reads", num(loop_log.max_capture_reads)},
                            {"card_max_step_reads", num(loop_log.max_step_reads)},
                            {"watchdog_max_gap_ms", num(watchdog.model.max_gap_ms())},
                            {"longest_step_ms", num(loop.uploader().longest_step_ms())}});
      write_status(o, "drained", &queue, loop.frames());
      return kDrained;
    }
    now = clock.monotonic_ms();
    uint64_t wake = t.wake_at_ms;
    if (now < o.offline_ms && o.offline_ms < wake) wake = o.offline_ms;
    uint64_t nap_ms = wake > now ? wake - now : 0;
    if (nap_ms > 250 && !o.sim_clock) nap_ms = 250;
    if (nap_ms > 0) nap(nap_ms);
  }
}
