#pragma once
// sim-camera's command line: every flag and its default (`--help` prints them).
#include <cstddef>
#include <cstdint>
#include <string>

#include "lifelog/device_api.h"
#include "sim_lifecycle.h"

struct SimOptions {
  std::string api, card, nvs, pairing_code, fixtures, status_file;
  uint64_t interval_ms = 30000;
  uint32_t first_contact_spread_ms = 0;
  int64_t photos = -1;  // unlimited
  bool exit_when_drained = false;
  uint64_t photo_size = 60000;
  uint64_t photo_size_max = 0;  // > photo_size: sizes vary per frame up to this
  bool log_json = false;
  size_t chunk_size = 8192;
  uint32_t backoff_base_ms = 1000;
  uint32_t backoff_cap_ms = 60000;
  uint64_t card_capacity = 0;
  uint64_t min_free_bytes = 1024 * 1024;
  int64_t ntp_after_ms = 0;
  uint32_t seed = 1;
  int net_timeout_ms = 15000;
  int64_t max_runtime_ms = -1;
  uint64_t clock_wait_ms = 120000;
  SimLifecycleOptions life;
  uint64_t fat_card_bytes = 0;  // > 0: the card is FatCard (in memory), not a folder
  bool sim_clock = false;
  uint64_t offline_ms = 0;
  uint32_t step_budget_ms = 240000;
  uint32_t batch = lifelog::kMaxBatchItems;
  uint32_t watchdog_ms = 120000;
  // Updates over the air: on when a release key is given. Slot files and boot state in ota_dir
  // (default: the NVS file's folder).
  std::string ota_key_hex, ota_dir;
  uint64_t ota_confirm_ms = 10 * 60 * 1000;
};

void print_usage();
// False on a bad or missing option (a message is on stderr), or for --help.
bool parse_sim_args(int argc, char** argv, SimOptions* o);
