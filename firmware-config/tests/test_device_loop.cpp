// The device loop (core/src/device_loop.cpp) as the board runs it, on test doubles: the first,
// unpaired boot's portal under the task watchdog as ESP-IDF 5.3 enforces it, the boot without a
// portal, the capture rhythm and the owner's pause.
#include <algorithm>
#include <string>
#include <vector>

#include "lifelog/device_loop.h"
#include "lifelog/remote_settings.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

// esp_task_wdt as the board has it: a feed from a task that was never subscribed is refused.
class ModelWatchdog : public Watchdog {
 public:
  ModelWatchdog(WatchdogModel& model, Clock& clock) : model_(model), clock_(clock) {}
  void subscribe() override { model_.subscribe(clock_.monotonic_ms()); }
  bool feed() override { return model_.feed(clock_.monotonic_ms()); }

 private:
  WatchdogModel& model_;
  Clock& clock_;
};

class Slot : public CardSlot {
 public:
  bool mount() override { return ok; }
  void unmount() override {}
  bool ok = true;
};

class Link : public NetworkLink {
 public:
  void maintain(uint64_t) override {}
  bool connected() override { return online; }
  bool has_networks() override { return networks; }
  const char* name() override { return "test"; }
  bool online = false;
  bool networks = false;
};

// The board's portal (sketch/portal.cpp) serves its page in 5 ms slices and feeds the watchdog in
// each, until the form is saved or 3 minutes pass.
class Portal : public SetupPortal {
 public:
  Portal(Watchdog& wd, TestClock& clock) : wd_(wd), clock_(clock) {}
  bool run(TokenState token) override {
    ++opened;
    opened_with = token;
    for (uint64_t t = 0; t < 180000; t += 5) {
      wd_.feed();
      clock_.advance_ms(5);
    }
    return false;
  }
  bool button_down() override { return false; }
  int opened = 0;
  TokenState opened_with = TokenState::Held;

 private:
  Watchdog& wd_;
  TestClock& clock_;
};

class Light : public StatusLight {
 public:
  void card_failed() override {}
  void tick(uint64_t) override {}
};

struct Events : LoopObserver {
  std::vector<std::string> names;
  void on_loop_event(const LoopEvent& e) override { names.push_back(loop_event_name(e.kind)); }
  size_t count(const char* name) const {
    size_t n = 0;
    for (const auto& s : names) n += (s == name);
    return n;
  }
};

struct LoopRig {
  Rig rig;
  WatchdogModel model{120000};
  ModelWatchdog watchdog{model, rig.clock};
  Slot slot;
  Link link;
  Portal portal{watchdog, rig.clock};
  Light light;
  Events events;
  DevicePlatform platform{rig.fs, slot, rig.kv, rig.api_conn, rig.storage_conn, rig.api_net, rig.clock, rig.camera,
                          watchdog, link, portal, light, rig.rng, rig.rng, events};
  DeviceLoopConfig cfg;
  LoopRig() {
    cfg.endpoint = rig.endpoint;
    cfg.boot_id = 1;
    cfg.capture_interval_ms = 30000;
    cfg.upload.batch = rig.batch_buffers.view();
  }
  // Turns until the clock reaches `until`, sleeping to each turn's wake time as the platforms do.
  void run_until(DeviceLoop& loop, uint64_t until) {
    while (rig.clock.mono < until) {
      TurnResult t = loop.turn();
      uint64_t wake = t.wake_at_ms > rig.clock.mono ? t.wake_at_ms : rig.clock.mono + 50;
      rig.clock.advance_ms((wake < until ? wake : until) - rig.clock.mono);
    }
  }
};

TEST(first_unpaired_boot_opens_the_portal_with_the_watchdog_already_watching) {
  LoopRig r;  // no token, no pairing code, no networks: the portal is the only way on
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  CHECK_EQ(r.portal.opened, 1);
  CHECK(r.portal.opened_with == TokenState::None);
  // Every one of the portal's 36,000 feeds was accepted: ESP-IDF refuses (and logs) each feed of
  // an unsubscribed task, so the watchdog must be subscribed before the portal runs.
  CHECK_EQ(r.model.refused_feeds(), 0u);
  CHECK(!r.model.fired());
  r.run_until(loop, r.rig.clock.mono + 65000);
  CHECK_EQ(r.model.refused_feeds(), 0u);
  CHECK(!r.model.fired());
  CHECK_EQ(loop.frames(), 3u);  // captures go on without a token
}

TEST(boot_with_a_code_and_a_network_does_not_open_the_portal) {
  LoopRig r;
  r.rig.kv.put_str(kPairingCodeKey, "ABCD-EFGH");
  r.link.networks = true;
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  CHECK_EQ(r.portal.opened, 0);
}

TEST(boot_with_a_token_does_not_open_the_portal) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  CHECK_EQ(r.portal.opened, 0);
  CHECK(loop.has_token());
}

TEST(captures_keep_their_interval_and_the_frame_count_survives_a_reboot) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  {
    DeviceLoop loop(r.platform, r.cfg);
    loop.begin();
    r.run_until(loop, r.rig.clock.mono + 95000);  // slots at 0, 30, 60, 90 s
    CHECK_EQ(loop.frames(), 4u);
    CHECK_EQ(r.events.count("captured"), 4u);
    CHECK_EQ(loop.queue().pending_count(), 4u);  // offline: nothing sent
  }
  DeviceLoop again(r.platform, r.cfg);
  again.begin();
  CHECK_EQ(again.frames(), 4u);
  CHECK(!r.model.fired());
}

TEST(an_owner_pause_from_nvs_stops_captures) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  RemoteSettings paused;
  paused.paused = true;
  save_remote_settings(r.rig.kv, paused);
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  r.run_until(loop, r.rig.clock.mono + 120000);
  CHECK_EQ(loop.frames(), 0u);
  CHECK(!r.model.fired());  // a paused camera still feeds its watchdog
}

TEST(online_the_loop_uploads_what_it_captured) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  r.link.online = true;
  r.link.networks = true;
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  r.run_until(loop, r.rig.clock.mono + 65000);
  CHECK_EQ(loop.frames(), 3u);
  CHECK_EQ(r.rig.backend.ingested.size(), size_t(3));
  CHECK_EQ(loop.queue().pending_count(), 0u);
  CHECK(r.events.count("step") > 0);
}

}  // namespace

namespace {

TEST(a_refused_token_is_forgotten_captures_go_on_and_a_new_code_activates_again) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_revoked");  // the server knows only devtok_testtoken
  r.link.online = true;
  r.link.networks = true;
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  r.run_until(loop, r.rig.clock.mono + 65000);
  CHECK_EQ(r.events.count("token_dead"), 1u);
  CHECK(!loop.has_token());
  char stored[64] = {};
  CHECK(!r.rig.kv.get_str(kDeviceTokenKey, stored, sizeof(stored)));
  CHECK_EQ(loop.frames(), 3u);  // the board keeps capturing
  CHECK_EQ(r.rig.backend.ingested.size(), size_t(0));
  CHECK(r.events.count("activation_no_code") >= 1);  // rechecked every minute

  r.rig.kv.put_str(kPairingCodeKey, "ABCD-EFGH");  // as the portal stores a typed code
  r.run_until(loop, r.rig.clock.mono + 65000);     // the no-code recheck comes within 60 s
  CHECK_EQ(r.events.count("activated"), 1u);
  CHECK(loop.has_token());
  CHECK(!r.rig.kv.get_str(kPairingCodeKey, stored, sizeof(stored)));  // single use
  CHECK_EQ(loop.frames(), 5u);
  CHECK_EQ(r.rig.backend.ingested.size(), size_t(5));  // the backlog went out with the new token
  size_t heartbeats_with_new_token = 0;  // heartbeats resume after the dead token
  for (const FakeRequest& q : r.rig.backend.api.log) {
    auto tok = q.headers.find("x-device-token");
    bool fresh = tok != q.headers.end() && tok->second == r.rig.backend.token;
    heartbeats_with_new_token += fresh && q.path == "/functions/v1/devices/heartbeat";
  }
  CHECK(heartbeats_with_new_token > 0);
  CHECK(!r.model.fired());
}

// The owner revokes the camera right after a batch was ingested, before its files left the card
// (they go a few per step), and the next thing the camera hears of it is the heartbeat's 401.
// What the server has must leave the card then: a camera paired anew would send it again.
TEST(a_token_refused_at_the_heartbeat_takes_off_the_card_what_the_server_already_has) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  r.cfg.capture_limit = 4;
  r.cfg.upload.completions_per_step = 1;
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  r.run_until(loop, r.rig.clock.mono + 95000);  // four photos offline
  CHECK_EQ(loop.queue().pending_count(), 4u);
  r.link.online = true;
  r.link.networks = true;
  for (int i = 0; i < 100 && r.rig.backend.ingested.size() < 4; ++i) loop.turn();
  CHECK_EQ(r.rig.backend.ingested.size(), size_t(4));
  CHECK_EQ(r.rig.backend.batch_calls, size_t(2));   // one ask and one ingest for the four
  CHECK_EQ(loop.queue().pending_count(), 4u);       // confirmed, still on the card
  r.rig.backend.token = "devtok_other";             // revoked
  r.rig.clock.advance_ms(120000);                   // the heartbeat is due before the next upload step
  loop.turn();
  CHECK_EQ(r.events.count("token_dead"), 1u);
  CHECK_EQ(loop.queue().pending_count(), 0u);
  CHECK_EQ(loop.frames(), 4u);
}

}  // namespace

namespace {

// Cameras coming online together (the network back after an outage) spread their first API
// call over [0, first_contact_spread_ms], each by its own jitter source, and keep capturing
// while they wait.
TEST(cameras_online_together_spread_their_first_call_and_keep_capturing) {
  const uint64_t kSpread = 60000;
  std::vector<uint64_t> waits;
  uint32_t captured_while_waiting = 0;
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    LoopRig r;
    r.rig.rng = XorShiftRng(seed * 7919u);
    r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
    r.link.networks = true;
    r.cfg.capture_interval_ms = 5000;
    r.cfg.first_contact_spread_ms = uint32_t(kSpread);
    DeviceLoop loop(r.platform, r.cfg);
    loop.begin();
    r.run_until(loop, r.rig.clock.mono + 20000);  // the outage: captures, no calls
    CHECK(loop.frames() >= 3u);
    CHECK_EQ(r.rig.backend.api.log.size(), size_t(0));
    r.link.online = true;
    uint64_t back = r.rig.clock.mono;
    uint32_t frames_at_return = loop.frames();
    while (r.rig.backend.api.log.empty() && r.rig.clock.mono < back + kSpread + 5000) {
      r.run_until(loop, r.rig.clock.mono + 100);
    }
    CHECK(!r.rig.backend.api.log.empty());
    uint64_t wait = r.rig.clock.mono - back;
    CHECK(wait <= kSpread + 200);  // bounded (+ the 100 ms turns of this loop)
    waits.push_back(wait);
    if (wait > 10000) captured_while_waiting += loop.frames() - frames_at_return;
    // Once it has called, the backlog drains (captures go on, so the newest may be in flight).
    r.run_until(loop, r.rig.clock.mono + 120000);
    CHECK(r.rig.backend.ingested.size() >= size_t(frames_at_return));
    CHECK(loop.queue().pending_count() <= 1u);
  }
  std::sort(waits.begin(), waits.end());
  // Spread over the range, not bunched: the middle half of the cameras spans a good part of it.
  CHECK(waits.back() - waits.front() >= kSpread / 2);
  CHECK(waits[15] - waits[5] >= kSpread / 6);
  std::vector<uint64_t> seconds;
  for (uint64_t w : waits) seconds.push_back(w / 1000);
  seconds.erase(std::unique(seconds.begin(), seconds.end()), seconds.end());
  CHECK(seconds.size() >= 12u);  // 20 cameras in at least 12 different seconds
  CHECK(captured_while_waiting > 0u);
}

TEST(without_a_spread_the_first_call_goes_out_when_the_link_comes_up) {
  LoopRig r;
  r.rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
  r.link.networks = true;
  DeviceLoop loop(r.platform, r.cfg);
  loop.begin();
  r.run_until(loop, r.rig.clock.mono + 31000);
  r.link.online = true;
  loop.turn();
  CHECK(!r.rig.backend.api.log.empty());
}

}  // namespace
