// Pure helpers: hashing, time formatting and correction, backoff arithmetic.
#include <cstring>
#include <string>

#include "lifelog/backoff.h"
#include "lifelog/capture_time.h"
#include "lifelog/device_api.h"
#include "lifelog/json.h"
#include "lifelog/sha256.h"
#include "lifelog/utc_time.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

class ScriptedRng : public Rng {
 public:
  ScriptedRng(std::initializer_list<uint32_t> values) : values_(values) {}
  uint32_t next_u32() override { return values_[pos_++ % values_.size()]; }

 private:
  std::vector<uint32_t> values_;
  size_t pos_ = 0;
};

std::string hex_of(const std::string& data) {
  Sha256 h;
  h.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  char out[65];
  h.finish_hex(out);
  return out;
}

}  // namespace

TEST(sha256_known_vectors) {
  CHECK_STR(hex_of(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK_STR(hex_of("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // Fed in awkward pieces.
  Sha256 h;
  std::string a(1000000, 'a');
  for (size_t i = 0; i < a.size();) {
    size_t n = 1 + (i % 97);
    if (i + n > a.size()) n = a.size() - i;
    h.update(reinterpret_cast<const uint8_t*>(a.data()) + i, n);
    i += n;
  }
  char out[65];
  h.finish_hex(out);
  CHECK_STR(out, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(utc_formatting) {
  char buf[32];
  CHECK(format_iso8601_utc(1766744130, buf, sizeof(buf)));
  CHECK_STR(buf, "2025-12-26T10:15:30Z");
  CHECK(format_file_stamp(1766744130, buf, sizeof(buf)));
  CHECK_STR(buf, "2025-12-26T10-15-30Z");
  CHECK(format_iso8601_utc(951868799, buf, sizeof(buf)));
  CHECK_STR(buf, "2000-02-29T23:59:59Z");
  CHECK(format_iso8601_utc(-1, buf, sizeof(buf)));
  CHECK_STR(buf, "1969-12-31T23:59:59Z");
  CHECK(!format_iso8601_utc(1766744130, buf, 20));  // no room for the NUL
  for (int64_t t = -100000000; t < 4000000000; t += 86399 * 37) {
    CHECK_EQ(unix_from_civil(civil_from_unix(t)), t);
  }
}

TEST(backoff_exact_schedule_and_cap) {
  BackoffConfig cfg;
  cfg.base_ms = 1000;
  cfg.cap_ms = 10000;
  ScriptedRng rng({999, 2001, 4000, 12345, 10000, 10001 * 3 + 7, 4294967295u});
  Backoff b(cfg, rng);
  CHECK_EQ(b.next_delay_ms(), 999u);   // ceiling 1000
  CHECK_EQ(b.next_delay_ms(), 0u);     // ceiling 2000: 2001 % 2001
  CHECK_EQ(b.next_delay_ms(), 4000u);  // ceiling 4000
  CHECK_EQ(b.next_delay_ms(), 4344u);  // ceiling 8000: 12345 % 8001
  CHECK_EQ(b.next_delay_ms(), 10000u); // capped at 10000
  CHECK_EQ(b.next_delay_ms(), 7u);     // still capped
  CHECK_EQ(b.next_delay_ms(), uint32_t(4294967295u % 10001u));
  for (int i = 0; i < 100; ++i) CHECK(b.next_delay_ms() <= 10000u);  // no overflow past the cap
  b.reset();
  CHECK_EQ(b.attempt(), 0u);
  CHECK_EQ(backoff_ceiling_ms(cfg, 0), 1000u);
  CHECK_EQ(backoff_ceiling_ms(cfg, 3), 8000u);
  CHECK_EQ(backoff_ceiling_ms(cfg, 40), 10000u);
}

TEST(backoff_seeded_rng_is_reproducible) {
  BackoffConfig cfg;
  cfg.base_ms = 500;
  cfg.cap_ms = 30000;
  XorShiftRng r1(123), r2(123), raw(123);
  Backoff a(cfg, r1), b(cfg, r2);
  for (uint32_t i = 0; i < 20; ++i) {
    uint32_t x = a.next_delay_ms();
    CHECK_EQ(x, b.next_delay_ms());
    CHECK_EQ(x, full_jitter_ms(backoff_ceiling_ms(cfg, i), raw.next_u32()));
  }
}

TEST(boot_id_counts_up_skips_zero_and_reports_a_store_failure) {
  MemKv kv;
  CHECK_EQ(next_boot_id(kv), 1u);
  CHECK_EQ(next_boot_id(kv), 2u);
  uint32_t stored = 0;
  CHECK(kv.get_u32(kBootIdKey, &stored));
  CHECK_EQ(stored, 2u);
  CHECK(kv.put_u32(kBootIdKey, UINT32_MAX));
  CHECK_EQ(next_boot_id(kv), 1u);
  kv.puts_until_cut = 0;
  CHECK_EQ(next_boot_id(kv), 0u);
}

TEST(time_correction_runs_once_after_the_first_sync) {
  Rig rig;
  rig.clock.synced = false;
  rig.clock.wall = 0;
  rig.clock.mono = 10000;
  CHECK(rig.capture());
  uint32_t fixed = 99;
  CHECK(!rig.queue->correct_times_after_sync(rig.clock, rig.ucfg.boot_id, &fixed));
  CHECK_EQ(fixed, 99u);
  rig.clock.mono = 70000;
  rig.clock.wall = 1766744130;
  rig.clock.synced = true;
  CHECK(rig.queue->correct_times_after_sync(rig.clock, rig.ucfg.boot_id, &fixed));
  CHECK_EQ(fixed, 1u);
  ManifestRecord rec;
  CHECK(rig.queue->load(0, &rec));
  CHECK(rec.stamp.time_corrected);
  CHECK(!rig.queue->correct_times_after_sync(rig.clock, rig.ucfg.boot_id, &fixed));
}

TEST(time_correction_rules) {
  CaptureStamp early;  // taken 40.6 s after boot 5 started, before NTP
  early.wall_s = 946684800 + 40;
  early.mono_ms = 40600;
  early.boot_id = 5;
  ClockReading now;
  now.boot_id = 5;
  now.mono_ms = 100000;
  now.wall_s = 1766744130;
  now.synced = false;
  CaptureStamp s = resolve_capture_time(early, now);
  CHECK(!s.ntp_synced);  // clock still not set
  CHECK_EQ(s.wall_s, early.wall_s);
  now.synced = true;
  s = resolve_capture_time(early, now);
  CHECK(s.ntp_synced && s.time_corrected);
  CHECK_EQ(s.wall_s, int64_t(1766744130 - 59));  // 59.4 s earlier, rounded
  now.boot_id = 6;  // a later boot cannot know how long ago it was
  s = resolve_capture_time(early, now);
  CHECK(!s.ntp_synced && !s.time_corrected);
  CaptureStamp good = early;
  good.ntp_synced = true;
  now.boot_id = 5;
  s = resolve_capture_time(good, now);
  CHECK(!s.time_corrected);
  CHECK_EQ(s.wall_s, good.wall_s);
}

TEST(time_correction_reaches_the_server) {
  Rig rig;
  rig.clock.synced = false;
  rig.clock.wall = 0;  // unset device clock
  rig.clock.mono = 10000;
  CHECK(rig.capture());  // seq 0, this boot, unsynced
  // A record from an earlier boot that never got corrected.
  ManifestRecord old;
  CHECK(rig.capture(&old));
  old.stamp.boot_id = 0;
  CHECK(rig.queue->save(old));
  rig.clock.mono = 70000;
  rig.clock.wall = 1766744130;
  rig.clock.synced = true;
  CHECK_EQ(rig.queue->apply_time_correction(read_clock(rig.clock, rig.ucfg.boot_id)), 1u);
  ManifestRecord fixed;
  CHECK(rig.queue->load(0, &fixed));
  CHECK(fixed.stamp.time_corrected && fixed.stamp.ntp_synced);
  CHECK(rig.drain() == StepResult::Idle);
  JsonDoc a(cJSON_Parse(rig.backend.ingest_bodies[0].c_str()));
  JsonDoc b(cJSON_Parse(rig.backend.ingest_bodies[1].c_str()));
  CHECK_STR(json_string(a.get(), "captured_at"), "2025-12-26T10:14:30Z");
  bool flag = false;
  CHECK(json_bool(a.get(), "ntp_synced", &flag) && flag);
  CHECK(json_bool(cJSON_GetObjectItemCaseSensitive(a.get(), "metadata"), "time_corrected", &flag) && flag);
  CHECK(json_bool(b.get(), "ntp_synced", &flag) && !flag);
  CHECK_STR(json_string(b.get(), "captured_at"), "1970-01-01T00:00:00Z");
  // What the server needs to date it later: the boot and the time since that boot.
  double boot = -1, uptime = -1;
  CHECK(json_number(cJSON_GetObjectItemCaseSensitive(b.get(), "metadata"), "boot_id", &boot));
  CHECK(json_number(cJSON_GetObjectItemCaseSensitive(b.get(), "metadata"), "uptime_ms", &uptime));
  CHECK_EQ(boot, 0.0);
  CHECK_EQ(uptime, 10000.0);
  // A synced photo carries its uptime too: with its wall time it gives its boot's start.
  CHECK(json_number(cJSON_GetObjectItemCaseSensitive(a.get(), "metadata"), "uptime_ms", &uptime));
}

TEST(unsynced_photos_wait_for_the_clock_then_give_up) {
  Rig rig;
  rig.ucfg.clock_wait_ms = 20000;
  rig.make_uploader();
  rig.clock.synced = false;
  rig.clock.wall = 5;
  rig.clock.mono = 5000;
  CHECK(rig.capture());
  CHECK(rig.uploader->step() == StepResult::Waiting);
  CHECK(rig.backend.api.log.empty());
  rig.clock.mono = 8000;  // NTP answers: the photo goes out corrected
  rig.clock.wall = 1766744130;
  rig.clock.synced = true;
  CHECK(rig.drain() == StepResult::Idle);
  JsonDoc a(cJSON_Parse(rig.backend.ingest_bodies[0].c_str()));
  CHECK_STR(json_string(a.get(), "captured_at"), "2025-12-26T10:15:27Z");
  // Without NTP, it waits only until the deadline.
  rig.clock.synced = false;
  rig.clock.wall = 9;
  CHECK(rig.capture());
  CHECK(rig.uploader->step() == StepResult::Waiting);
  CHECK(rig.uploader->ready_at_ms() <= 20000);
  rig.clock.mono = 20000;
  CHECK(rig.drain() == StepResult::Idle);
  JsonDoc b(cJSON_Parse(rig.backend.ingest_bodies[1].c_str()));
  bool flag = true;
  CHECK(json_bool(b.get(), "ntp_synced", &flag) && !flag);
}

// The pass after NTP rewrites at most kCorrectionChunk records per call, so captures and the
// watchdog get their turn between calls however many photos waited for the clock.
TEST(time_correction_runs_in_bounded_chunks) {
  Rig rig;
  rig.clock.synced = false;
  rig.clock.wall = 0;
  for (int i = 0; i < 10; ++i) {
    CHECK(rig.capture());
    rig.clock.advance_ms(30000);
  }
  rig.clock.wall = 1766744130;
  rig.clock.synced = true;
  uint32_t fixed = 0, calls = 0;
  uint32_t before = rig.fs.ops;
  while (!rig.queue->correct_times_after_sync(rig.clock, rig.ucfg.boot_id, &fixed)) {
    ++calls;
    CHECK(rig.fs.ops - before <= CaptureQueue::kCorrectionChunk * 4);  // a record: remove + rename + open
    before = rig.fs.ops;
    CHECK(calls < 10);
  }
  CHECK_EQ(fixed, 10u);
  CHECK_EQ(calls, 2u);  // 4 + 4, then the last 2 on the finishing call
  for (uint32_t seq = 0; seq < 10; ++seq) {
    ManifestRecord rec;
    CHECK(rig.queue->load(seq, &rec));
    CHECK(rec.stamp.time_corrected);
  }
}
