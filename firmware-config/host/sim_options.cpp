#include "sim_options.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "lifelog/device_api.h"
#include "lifelog/http.h"

using namespace lifelog;

void print_usage() {
  fprintf(stderr,
          "usage: sim-camera --api URL --card DIR --nvs FILE [options]\n"
          "  --pairing-code CODE      activate with this code if NVS holds no token\n"
          "  --interval-ms N          time between captures (default 30000)\n"
          "  --first-contact-spread-ms N  each time the link comes up, the first API call waits a\n"
          "                           random 0..N ms (default 0)\n"
          "  --photos N               stop capturing after N photos in total, across restarts\n"
          "  --exit-when-drained      exit 0 once all N photos are captured and uploaded\n"
          "  --photo-size BYTES       size of synthetic JPEGs (default 60000)\n"
          "  --photo-size-max BYTES   vary each frame's size between --photo-size and this (seeded by frame)\n"
          "  --fixtures DIR           replay JPEG files from DIR instead of synthetic ones\n"
          "  --log-json               one JSON object per line on stdout\n"
          "  --status-file FILE       write the current state as JSON (atomically)\n"
          "  --chunk-size N           PUT piece size, at most 8192 (default 8192)\n"
          "  --backoff-base-ms N      first retry ceiling (default 1000)\n"
          "  --backoff-cap-ms N       largest retry wait (default 60000)\n"
          "  --card-capacity BYTES    pretend the card holds only this much\n"
          "  --min-free-bytes BYTES   evict oldest photos below this free space (default 1 MiB)\n"
          "  --ntp-after-ms N         clock counts as synced only after N ms (-1: never; default 0)\n"
          "  --seed N                 seed for jitter and synthetic content (default 1)\n"
          "  --net-timeout-ms N       socket connect/read/write timeout (default 15000)\n"
          "  --clock-wait-ms N        hold this boot's unsynced photos until NTP, at most N ms\n"
          "                           after start (default 120000)\n"
          "  --max-runtime-ms N       give up after N ms (exit 6)\n"
          "  --fat-card BYTES         the card is a FAT model of that size in memory (FatCard, with\n"
          "                           FatFs's costs and limits) instead of the --card folder\n"
          "  --sim-clock              simulated time: sleeping jumps the clock ahead (long runs fast)\n"
          "  --offline-ms N           no network (uploads wait) until N ms after start\n"
          "  --step-budget-ms N       wall time one upload step may take (default 240000)\n"
          "  --batch N                photos per upload-urls / ingest-batch call (1-32, default 32;\n"
          "                           1 keeps to the single routes)\n"
          "  --watchdog-ms N          the modelled task watchdog's timeout (default 120000; exit 7\n"
          "                           if a feed comes later, as the board would reset)\n"
          "  --ota-key HEX            trust this Ed25519 release key (64 hex digits): updates over the air\n"
          "                           into slot0.bin/slot1.bin + boot.kv (exit 8: restart me on the new\n"
          "                           image; exit 9: the image crashed at boot)\n"
          "  --ota-dir DIR            where the slots live (default: the --nvs file's folder)\n"
          "  --ota-confirm-ms N       a new image that got no good heartbeat in N ms rolls back\n"
          "                           (default 600000)\n");
  fputs(kLifecycleUsage, stderr);
}

static bool parse_u64(const char* s, uint64_t* out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  unsigned long long v = strtoull(s, &end, 10);
  if (*end || s[0] == '-') return false;
  *out = v;
  return true;
}

static bool parse_i64(const char* s, int64_t* out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  long long v = strtoll(s, &end, 10);
  if (*end) return false;
  *out = v;
  return true;
}

bool parse_sim_args(int argc, char** argv, SimOptions* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    uint64_t u = 0;
    int64_t s = 0;
    auto need_u = [&](uint64_t max) { return parse_u64(v, &u) && u <= max && (++i, true); };
    if (a == "--api" && v) { o->api = v; ++i; }
    else if (a == "--card" && v) { o->card = v; ++i; }
    else if (a == "--nvs" && v) { o->nvs = v; ++i; }
    else if (a == "--ota-key" && v && strlen(v) == 64) { o->ota_key_hex = v; ++i; }
    else if (a == "--ota-dir" && v) { o->ota_dir = v; ++i; }
    else if (a == "--ota-confirm-ms" && need_u(UINT32_MAX)) o->ota_confirm_ms = u;
    else if (a == "--pairing-code" && v) { o->pairing_code = v; ++i; }
    else if (a == "--fixtures" && v) { o->fixtures = v; ++i; }
    else if (a == "--status-file" && v) { o->status_file = v; ++i; }
    else if (a == "--exit-when-drained") o->exit_when_drained = true;
    else if (a == "--log-json") o->log_json = true;
    else if (a == "--interval-ms" && need_u(UINT32_MAX)) o->interval_ms = u;
    else if (a == "--first-contact-spread-ms" && need_u(UINT32_MAX)) o->first_contact_spread_ms = uint32_t(u);
    else if (a == "--photos" && need_u(UINT32_MAX)) o->photos = int64_t(u);
    else if (a == "--photo-size" && need_u(64ull << 20)) o->photo_size = u;
    else if (a == "--photo-size-max" && need_u(64ull << 20)) o->photo_size_max = u;
    else if (a == "--chunk-size" && need_u(kMaxStreamChunk) && u > 0) o->chunk_size = size_t(u);
    else if (a == "--backoff-base-ms" && need_u(UINT32_MAX)) o->backoff_base_ms = uint32_t(u);
    else if (a == "--backoff-cap-ms" && need_u(UINT32_MAX)) o->backoff_cap_ms = uint32_t(u);
    else if (a == "--card-capacity" && need_u(UINT64_MAX)) o->card_capacity = u;
    else if (a == "--min-free-bytes" && need_u(UINT64_MAX)) o->min_free_bytes = u;
    else if (a == "--clock-wait-ms" && need_u(UINT64_MAX)) o->clock_wait_ms = u;
    else if (a == "--step-budget-ms" && need_u(UINT32_MAX) && u > 0) o->step_budget_ms = uint32_t(u);
    else if (a == "--batch" && need_u(kMaxBatchItems) && u > 0) o->batch = uint32_t(u);
    else if (a == "--watchdog-ms" && need_u(UINT32_MAX) && u > 0) o->watchdog_ms = uint32_t(u);
    else if (a == "--seed" && need_u(UINT32_MAX)) o->seed = uint32_t(u);
    else if (a == "--net-timeout-ms" && need_u(600000) && u > 0) o->net_timeout_ms = int(u);
    else if (a == "--fat-card" && need_u(UINT64_MAX) && u >= (64ull << 20)) o->fat_card_bytes = u;
    else if (a == "--sim-clock") o->sim_clock = true;
    else if (a == "--offline-ms" && need_u(UINT64_MAX)) o->offline_ms = u;
    else if (a == "--ntp-after-ms" && parse_i64(v, &s)) { o->ntp_after_ms = s; ++i; }
    else if (a == "--max-runtime-ms" && parse_i64(v, &s)) { o->max_runtime_ms = s; ++i; }
    else if (bool bad = false; parse_lifecycle_flag(argc, argv, &i, &o->life, &bad)) {
      if (bad) {
        fprintf(stderr, "sim-camera: bad or incomplete option '%s'\n", a.c_str());
        return false;
      }
    }
    else if (a == "--help" || a == "-h") return false;
    else {
      fprintf(stderr, "sim-camera: bad or incomplete option '%s'\n", a.c_str());
      return false;
    }
  }
  if (o->api.empty() || (o->card.empty() && o->fat_card_bytes == 0) || o->nvs.empty()) {
    fprintf(stderr, "sim-camera: --api, --card (or --fat-card) and --nvs are required\n");
    return false;
  }
  if (o->photo_size_max != 0 && o->photo_size_max < o->photo_size) {
    fprintf(stderr, "sim-camera: --photo-size-max is below --photo-size\n");
    return false;
  }
  return true;
}
