// The link under real-world conditions: Retry-After in both forms, server waits that do not
// inflate the backoff, a throttled uplink with the watchdog modelled, idle timeouts measured from
// the last byte of progress, aborted uploads, a stuck photo, card read errors mid-PUT.
#include <cstring>

#include "lifelog/backoff.h"
#include "lifelog/retry_after.h"
#include "lifelog/watchdog.h"
#include "read_fault_fs.h"
#include "support/rig.h"
#include "support/test.h"
#include "support/throttled_net.h"

using namespace lifelog;

namespace {

std::string err(const char* code) { return std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"m\"}}"; }

FakeReply reply(int status, const std::string& body, const std::string& extra = "") {
  return FakeReply{http_reply(status, body, extra), false};
}

class FeedWatchdog : public IoListener {
 public:
  explicit FeedWatchdog(WatchdogModel& wd) : wd_(wd) {}
  void on_io(uint64_t now_ms) override { wd_.feed(now_ms); }

 private:
  WatchdogModel& wd_;
};

const UploadEvent* last_event(const EventLog& log, const char* name) {
  for (size_t i = log.events.size(); i-- > 0;) {
    if (log.names[i] == name) return &log.events[i];
  }
  return nullptr;
}

}  // namespace

TEST(http_date_all_three_forms) {
  int64_t t = 0;
  // RFC 9110 §5.6.7's example instant, in its three forms.
  CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
  CHECK_EQ(t, int64_t(784111777));
  CHECK(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
  CHECK_EQ(t, int64_t(784111777));
  CHECK(parse_http_date("Sun Nov  6 08:49:37 1994", &t));
  CHECK_EQ(t, int64_t(784111777));
  CHECK(parse_http_date("Thu, 01 Jan 2026 00:00:00 GMT", &t));
  CHECK_EQ(t, int64_t(1767225600));
  CHECK(!parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC", &t));
  CHECK(!parse_http_date("Sun, 31 Feb 1994 08:49:37 GMT", &t));
  CHECK(!parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT", &t));
  CHECK(!parse_http_date("", &t));
  CHECK(!parse_http_date("soon", &t));
}

TEST(retry_after_seconds_dates_and_bound) {
  RetryAfter ra;
  CHECK(parse_retry_after("75", &ra));
  CHECK_EQ(retry_after_wait_ms(ra, -1, -1), int64_t(75000));
  CHECK(parse_retry_after(" 0 ", &ra));
  CHECK_EQ(retry_after_wait_ms(ra, -1, -1), int64_t(0));
  CHECK(parse_retry_after("99999999999999999999", &ra));
  CHECK_EQ(retry_after_wait_ms(ra, -1, -1), int64_t(kMaxRetryAfterS) * 1000);
  CHECK(!parse_retry_after("-5", &ra));
  CHECK(!parse_retry_after("5s", &ra));
  CHECK(parse_retry_after("Thu, 01 Jan 2026 00:01:30 GMT", &ra));
  // Measured against the answer's Date header when there is one ...
  CHECK_EQ(retry_after_wait_ms(ra, 1767225600, -1), int64_t(90000));
  // ... else against the device's clock, with a second for the two clocks' rounding ...
  CHECK_EQ(retry_after_wait_ms(ra, -1, 1767225600), int64_t(91000));
  // ... and with neither, it cannot be used.
  CHECK_EQ(retry_after_wait_ms(ra, -1, -1), int64_t(-1));
  CHECK_EQ(retry_after_wait_ms(ra, 1767225600 + 100, -1), int64_t(0));  // already past
  CHECK(parse_retry_after("Fri, 02 Jan 2026 00:00:00 GMT", &ra));
  CHECK_EQ(retry_after_wait_ms(ra, 1767225600, -1), int64_t(kMaxRetryAfterS) * 1000);
}

// 429 and 503 say how long; network errors do not. Only the latter advance the backoff.
TEST(server_waits_do_not_inflate_the_backoff) {
  BackoffConfig cfg;
  cfg.base_ms = 1000;
  cfg.cap_ms = 60000;
  XorShiftRng rng(7);
  Backoff b(cfg, rng);
  ApiResult r;
  r.outcome = ApiOutcome::RateLimited;
  r.status = 429;
  r.retry_after.delay_s = 75;
  for (int i = 0; i < 10; ++i) CHECK_EQ(retry_delay_ms(b, r), 75000u);  // above the cap: not cut
  CHECK_EQ(b.attempt(), 0u);
  r.outcome = ApiOutcome::ServerError;
  r.status = 503;
  r.retry_after = RetryAfter();
  r.retry_after.at_unix_s = 1767225630;
  r.server_date_s = 1767225600;
  CHECK_EQ(retry_delay_ms(b, r), 30000u);
  CHECK_EQ(b.attempt(), 0u);
  r.outcome = ApiOutcome::Network;
  r.status = 0;
  r.retry_after = RetryAfter();
  CHECK(retry_delay_ms(b, r) <= 1000u);  // the first failure's ceiling, as if no 429 had come
  CHECK_EQ(b.attempt(), 1u);
  // A 500 with Retry-After is not a server wait (RFC 9110 names 503 and 3xx; 429 by RFC 6585).
  r.outcome = ApiOutcome::ServerError;
  r.status = 500;
  r.retry_after.delay_s = 30;
  CHECK(retry_delay_ms(b, r) <= 2000u);
}

TEST(upload_429_above_the_cap_waits_what_was_asked) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"upload-url", reply(429, err("rate_limited"), "Retry-After: 75\r\n")});
  uint64_t t0 = rig.clock.mono;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.uploader->ready_at_ms(), t0 + 75000);
  rig.clock.mono += 74999;
  CHECK(rig.uploader->step() == StepResult::Waiting);
  rig.clock.mono += 1;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_storage_503_with_http_date_waits_until_that_date) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back(
      {"PUT", reply(503, "<Error><Code>SlowDown</Code></Error>",
                    "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\nRetry-After: Thu, 01 Jan 2026 00:02:00 GMT\r\n")});
  uint64_t t0 = rig.clock.mono;
  CHECK(rig.uploader->step() == StepResult::Progress);
  const UploadEvent* e = last_event(rig.events, "retry");
  CHECK(e != nullptr);
  CHECK_STR(e->step, "put");
  CHECK_EQ(e->delay_ms, 120000u);
  CHECK_EQ(rig.uploader->ready_at_ms(), t0 + 120000);
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_api_503_with_seconds_is_honoured) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"ingest", reply(503, err("storage_unavailable"), "Retry-After: 42\r\n")});
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(last_event(rig.events, "retry")->delay_ms, 42000u);
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

// A 250 KB photo behind a 2 KB/s uplink: about 125 s of PUT, the watchdog fed from inside the
// streaming loop, and an uploader that may spend step_budget_ms on one step.
namespace {
constexpr uint32_t kSlowPhotoBytes = 250 * 1024;
struct ThrottledPut {
  ThrottledPut(Rig& rig, uint32_t step_budget_ms)
      // lwIP's send buffer as arduino-esp32 builds it (CONFIG_LWIP_TCP_SND_BUF_DEFAULT=5744,
      // esp32-arduino-lib-builder configs/defconfig.common).
      : slow(rig.storage_net, rig.clock, 2048, 5744),
        cfg(budgeted(rig.ucfg, feeder, step_budget_ms)),
        up(*rig.queue, rig.api_conn, slow_conn, rig.clock, rig.rng, rig.endpoint, cfg, &rig.events) {
    wd.subscribe(rig.clock.mono);
  }
  static UploaderConfig budgeted(UploaderConfig cfg, IoListener& listener, uint32_t step_budget_ms) {
    cfg.io_listener = &listener;
    cfg.step_budget_ms = step_budget_ms;
    return cfg;
  }
  WatchdogModel wd{120000};
  FeedWatchdog feeder{wd};
  ThrottledNet slow;
  HttpConnection slow_conn{slow};
  UploaderConfig cfg;
  Uploader up;
};
}  // namespace

TEST(throttled_put_feeds_the_watchdog_and_finishes_within_its_budget) {
  Rig rig;
  rig.camera.size = kSlowPhotoBytes;
  CHECK(rig.capture());
  ThrottledPut t(rig, 240000);
  CHECK(t.up.step() == StepResult::Progress);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK(t.up.longest_step_ms() >= 120000);  // it really was that slow
  CHECK(t.up.longest_step_ms() <= t.cfg.step_budget_ms);
  CHECK(t.wd.max_gap_ms() <= 10000);
  CHECK(!t.wd.fired());
}

TEST(throttled_put_over_budget_is_aborted_and_retried_later) {
  Rig rig;
  rig.camera.size = kSlowPhotoBytes;
  CHECK(rig.capture());
  ThrottledPut t(rig, 60000);
  CHECK(t.up.step() == StepResult::Progress);
  CHECK(t.up.last_step_ms() <= t.cfg.step_budget_ms + t.slow.slice_ms);
  const UploadEvent* e = last_event(rig.events, "retry");
  CHECK(e != nullptr);
  CHECK_STR(e->code, "over_budget");
  CHECK_EQ(t.slow.aborts, 1u);              // dropped, so it stops competing for the uplink
  CHECK_EQ(t.slow.closes_with_unsent, 0u);  // never closed gracefully with bytes still queued
  CHECK_EQ(rig.queue->pending_count(), 1u);
  CHECK(!t.wd.fired());
  CHECK(t.wd.max_gap_ms() <= 10000);
}

// 5 MB at 1 Mbit/s behind a send queue that takes it all at once (a PC's autotuned buffer):
// write() returns in no time and the bytes need 40 s to leave. The timeout must not start then.
TEST(idle_timeout_counts_from_the_last_byte_that_left) {
  Rig rig;
  rig.camera.size = 5 * 1024 * 1024;
  CHECK(rig.capture());
  ThrottledNet slow(rig.storage_net, rig.clock, 125000, 8 * 1024 * 1024);
  HttpConnection slow_conn(slow);
  UploaderConfig cfg = rig.ucfg;
  cfg.idle_timeout_ms = 15000;
  Uploader up(*rig.queue, rig.api_conn, slow_conn, rig.clock, rig.rng, rig.endpoint, cfg, &rig.events);
  CHECK(up.step() == StepResult::Progress);
  CHECK_EQ(rig.events.count("retry"), 0u);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_EQ(rig.backend.storage.log.size(), 1u);  // sent once
  CHECK(up.last_step_ms() >= 40000);
}

TEST(idle_timeout_still_fires_when_nothing_moves) {
  Rig rig;
  CHECK(rig.capture());
  ThrottledNet slow(rig.storage_net, rig.clock, 0, 5744);  // a link that carries nothing
  HttpConnection slow_conn(slow);
  Uploader up(*rig.queue, rig.api_conn, slow_conn, rig.clock, rig.rng, rig.endpoint, rig.ucfg, &rig.events);
  CHECK(up.step() == StepResult::Progress);
  CHECK_STR(last_event(rig.events, "retry")->code, "timeout");
  CHECK(up.last_step_ms() >= 15000 && up.last_step_ms() <= 17000);
  CHECK_EQ(slow.aborts, 1u);
}

TEST(a_photo_that_keeps_failing_does_not_hold_up_the_ones_behind_it) {
  Rig rig;
  for (int i = 0; i < 4; ++i) CHECK(rig.capture());
  bool broken = true;
  auto normal = rig.backend.storage.handler;
  rig.backend.storage.handler = [&](const FakeRequest& r) {
    if (broken && r.path.find("/dev-1/0-") != std::string::npos) return reply(503, "<Error/>");
    return normal(r);
  };
  for (int i = 0; i < 60 && rig.backend.ingested.size() < 3; ++i) {
    if (rig.uploader->step() == StepResult::Waiting) rig.clock.mono = rig.uploader->ready_at_ms();
  }
  CHECK_EQ(rig.backend.ingested.size(), 3u);
  CHECK(rig.backend.ingested.count(0) == 0);
  CHECK(rig.events.count("deferred") >= 1);
  broken = false;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 4u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

namespace {
// The rig's card behind ReadFaultFs: reads of queued files fail from byte 20,000 of a 40 KB
// photo on, and clear after mounts_to_clear remounts (0: never). The uploader remounts it.
struct FaultyCard {
  FaultyCard(Rig& rig, uint32_t mounts_to_clear, uint32_t max_read_retries)
      : card(rig.fs),
        queue(card, rig.kv, rig.seqs, rig.qcfg),
        cfg(remounting(rig.ucfg, card, max_read_retries)),
        up(queue, rig.api_conn, rig.storage_conn, rig.clock, rig.rng, rig.endpoint, cfg, &rig.events),
        clock(rig.clock) {
    card.inject("/queue/", 20000, mounts_to_clear);
  }
  static UploaderConfig remounting(UploaderConfig cfg, CardMount& card, uint32_t max_read_retries) {
    cfg.card = &card;
    cfg.max_read_retries = max_read_retries;
    return cfg;
  }
  // Steps until idle or max_steps, skipping backoff waits.
  void run(int max_steps) {
    for (int i = 0; i < max_steps; ++i) {
      StepResult r = up.step();
      if (r == StepResult::Idle) break;
      if (r == StepResult::Waiting) clock.mono = up.ready_at_ms();
    }
  }
  ReadFaultFs card;
  CaptureQueue queue;
  UploaderConfig cfg;
  Uploader up;
  TestClock& clock;
};
constexpr uint32_t kFaultyCardPhotoBytes = 40000;
}  // namespace

TEST(a_read_error_mid_put_is_retried_after_a_remount) {
  Rig rig;
  rig.camera.size = kFaultyCardPhotoBytes;
  ManifestRecord rec;
  CHECK(rig.capture(&rec));
  FaultyCard f(rig, 1, UploaderConfig().max_read_retries);  // clears with one remount
  f.run(10);
  CHECK_EQ(f.card.remounts(), 1u);
  CHECK_EQ(rig.events.count("read_retry"), 1u);
  CHECK_EQ(rig.events.count("quarantined"), 0u);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_STR(rig.backend.objects[rig.backend.ingested[0]], rec.sha256);
}

TEST(a_persistent_read_error_is_quarantined_after_the_bound) {
  Rig rig;
  rig.camera.size = kFaultyCardPhotoBytes;
  CHECK(rig.capture());
  FaultyCard f(rig, 0, 3);  // never clears
  f.run(20);
  CHECK_EQ(f.card.remounts(), 3u);
  CHECK_EQ(rig.events.count("read_retry"), 3u);
  CHECK_EQ(rig.events.count("quarantined"), 1u);
  CHECK_EQ(f.queue.failed_count(), 1u);
  CHECK_EQ(rig.backend.ingested.size(), 0u);
}

// ---------------------------------------------------------------- portal and config limits
#include "lifelog/config_limits.h"
#include "lifelog/portal_policy.h"

TEST(portal_opens_by_itself_only_without_a_usable_token) {
  CHECK(portal_should_open({TokenState::None, false}));
  CHECK(portal_should_open({TokenState::Refused, false}));
  CHECK(!portal_should_open({TokenState::Held, false}));  // an activated camera never opens it by itself
  CHECK(portal_should_open({TokenState::Held, true}));    // only on a long press
}

TEST(portal_code_cannot_replace_a_working_token) {
  CHECK(decide_pairing_code(TokenState::Held, "BCDF-GHJK") == CodeDecision::RefuseOwned);
  CHECK(decide_pairing_code(TokenState::None, "BCDF-GHJK") == CodeDecision::Accept);
  // The owner revoked it: the server refuses the token, and that is the owner's proof.
  CHECK(decide_pairing_code(TokenState::Refused, "BCDF-GHJK") == CodeDecision::Accept);
  CHECK(decide_pairing_code(TokenState::None, "") == CodeDecision::RefuseEmpty);
  CHECK(decide_pairing_code(TokenState::None, "BCDF GHJK") == CodeDecision::RefuseMalformed);
  CHECK(decide_pairing_code(TokenState::None, "\xc3\xa9") == CodeDecision::RefuseMalformed);
  CHECK(strstr(code_decision_message(CodeDecision::RefuseOwned), "revoke") != nullptr);
}

TEST(portal_needs_a_wpa2_password) {
  CHECK(!portal_password_usable(nullptr));
  CHECK(!portal_password_usable(""));  // an open AP: refused
  CHECK(!portal_password_usable("short"));
  CHECK(portal_password_usable("k7Q2mW9xP4sT8vZ3"));
  CHECK(!portal_password_usable(std::string(64, 'a').c_str()));
}

TEST(wifi_credentials_follow_what_the_radio_takes) {
  std::string ssid32(32, 's'), ssid33(33, 's');
  CHECK(wifi_credentials_problem(ssid32.c_str(), "") == nullptr);
  CHECK(wifi_credentials_problem(ssid33.c_str(), "") != nullptr);
  // 16 two-byte letters: 32 bytes, 16 characters: fits; one more byte does not.
  std::string utf8;
  for (int i = 0; i < 16; ++i) utf8 += "\xc3\xa9";
  CHECK(wifi_credentials_problem(utf8.c_str(), "") == nullptr);
  CHECK(wifi_credentials_problem((utf8 + "x").c_str(), "") != nullptr);
  CHECK(wifi_credentials_problem("", "12345678") != nullptr);
  CHECK(wifi_credentials_problem("home", "1234567") != nullptr);
  CHECK(wifi_credentials_problem("home", "12345678") == nullptr);
  CHECK(wifi_credentials_problem("home", std::string(63, 'p').c_str()) == nullptr);
  CHECK(wifi_credentials_problem("home", std::string(64, 'f').c_str()) == nullptr);  // 64 hex: a raw PSK
  CHECK(wifi_credentials_problem("home", std::string(64, 'p').c_str()) != nullptr);
  CHECK(wifi_credentials_problem("home", std::string(65, 'f').c_str()) != nullptr);
  CHECK(wifi_credentials_problem("home", "pass\xc3\xa9word") != nullptr);  // non-ASCII passphrase
}

#include "lifelog/wifi_choice.h"

TEST(wifi_prefers_the_first_network_and_moves_back_to_it) {
  const char* known[] = {"home", "hotspot"};
  const char* only_hotspot[] = {"neighbour", "hotspot"};
  const char* both[] = {"hotspot", "home"};
  const char* none[] = {"neighbour"};
  CHECK_EQ(choose_network(known, 2, only_hotspot, 2, kNoNetwork), 1);
  CHECK_EQ(choose_network(known, 2, both, 2, kNoNetwork), 0);
  CHECK_EQ(choose_network(known, 2, none, 1, kNoNetwork), kNoNetwork);
  // On the hotspot, home comes back: move.
  CHECK_EQ(choose_network(known, 2, both, 2, 1), 0);
  // On the hotspot and home is still away: stay.
  CHECK_EQ(choose_network(known, 2, only_hotspot, 2, 1), kNoNetwork);
  // On home: nothing is better.
  CHECK_EQ(choose_network(known, 2, both, 2, 0), kNoNetwork);
  CHECK_EQ(next_scan_delay_ms(0, 0), UINT32_MAX);
  CHECK_EQ(next_scan_delay_ms(1, 0), 300000u);
  CHECK_EQ(next_scan_delay_ms(kNoNetwork, 0), 10000u);
  CHECK_EQ(next_scan_delay_ms(kNoNetwork, 10), 120000u);
}
