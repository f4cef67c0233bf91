// Heartbeat, remote settings and token rotation against a fake server that keeps tokens
// the way device_api.authenticate does (supabase/migrations/20261201002000_device_lifecycle.sql):
// the old token works until the pending one is first used, then it is refused token_rotated.
// Power cuts are injected at every NVS write and every request of a rotation.
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "lifelog/heartbeat.h"
#include "lifelog/json.h"
#include "lifelog/remote_settings.h"
#include "lifelog/token_rotation.h"
#include "support/fake_net.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

// NVS with a power cut armed at the n-th write (put or erase). NVS entries are atomic: the
// cut write lands or not, as the test chooses; after it every write fails until reboot().
class CutKv : public KeyValueStore {
 public:
  std::map<std::string, std::string> values;
  int64_t writes_until_cut = -1;
  bool cut_lands = false;
  bool crashed = false;
  uint32_t writes = 0;

  void reboot() {
    crashed = false;
    writes_until_cut = -1;
  }
  bool get_str(const char* key, char* out, size_t cap) override {
    auto it = values.find(key);
    if (it == values.end() || it->second.size() + 1 > cap) return false;
    memcpy(out, it->second.c_str(), it->second.size() + 1);
    return true;
  }
  bool put_str(const char* key, const char* value) override { return write(key, value, false); }
  bool get_u32(const char* key, uint32_t* out) override {
    auto it = values.find(key);
    if (it == values.end()) return false;
    *out = uint32_t(std::stoul(it->second));
    return true;
  }
  bool put_u32(const char* key, uint32_t value) override { return write(key, std::to_string(value), false); }
  bool get_u64(const char* key, uint64_t* out) override {
    auto it = values.find(key);
    if (it == values.end()) return false;
    *out = std::stoull(it->second);
    return true;
  }
  bool put_u64(const char* key, uint64_t value) override { return write(key, std::to_string(value), false); }
  bool erase(const char* key) override { return write(key, "", true); }

 private:
  bool write(const std::string& key, const std::string& value, bool erase) {
    if (crashed) return false;
    ++writes;
    bool cut = writes_until_cut == 0;
    if (writes_until_cut > 0) --writes_until_cut;
    if (cut) crashed = true;
    if (!cut || cut_lands) {
      if (erase) values.erase(key);
      else values[key] = value;
    }
    return !cut;
  }
};

// The server's side of tokens and settings, with a power cut (of the camera) armed at the
// n-th request: the request is lost before the server sees it, or handled with its answer lost.
struct LifecycleServer {
  FakeServer net;
  std::string current = "devtok_T0";
  std::string pending;
  std::set<std::string> retired;
  bool revoked = false;
  bool paused = false;
  uint32_t interval_s = 0;
  uint32_t next_heartbeat_s = 60;
  bool wants_rotation = false;  // the token is "old"
  int issued = 0;
  std::vector<std::string> heartbeat_bodies;
  int64_t requests_until_cut = -1;
  bool cut_after_handling = false;
  bool down = false;  // the camera lost power: nothing reaches the server

  LifecycleServer() {
    net.handler = [this](const FakeRequest& r) { return handle(r); };
  }

  // 0: accepted; else the 401 code.
  const char* authenticate(const std::string& token) {
    if (token == current) return revoked ? "token_revoked" : nullptr;
    if (!pending.empty() && token == pending) {
      retired.insert(current);
      current = pending;
      pending.clear();
      return revoked ? "token_revoked" : nullptr;
    }
    return retired.count(token) ? "token_rotated" : "invalid_token";
  }

  FakeReply handle(const FakeRequest& r) {
    if (down) return FakeReply{"", true};
    bool cut = requests_until_cut == 0;
    if (requests_until_cut > 0) --requests_until_cut;
    if (cut && !cut_after_handling) {
      down = true;
      return FakeReply{"", true};
    }
    FakeReply reply = answer(r);
    if (cut) {
      down = true;
      return FakeReply{"", true};
    }
    return reply;
  }

  FakeReply answer(const FakeRequest& r) {
    auto token = r.headers.find("x-device-token");
    const char* refused = authenticate(token == r.headers.end() ? "" : token->second);
    if (refused) {
      return FakeReply{http_reply(401, std::string("{\"error\":{\"code\":\"") + refused + "\",\"message\":\"m\"}}"), false};
    }
    if (r.path == "/functions/v1/devices/rotate") {
      pending = "devtok_T" + std::to_string(++issued);
      return FakeReply{http_reply(201, "{\"device_id\":\"d\",\"device_token\":\"" + pending + "\"}"), false};
    }
    if (r.path == "/functions/v1/devices/heartbeat") {
      heartbeat_bodies.push_back(r.body);
      std::string interval = interval_s ? std::to_string(interval_s) : "null";
      return FakeReply{http_reply(200, std::string("{\"settings\":{\"paused\":") + (paused ? "true" : "false") +
                                           ",\"capture_interval_s\":" + interval + "},\"next_heartbeat_s\":" +
                                           std::to_string(next_heartbeat_s) + ",\"rotate_token\":" +
                                           (wants_rotation && current == "devtok_T0" ? "true" : "false") + "}"),
                       false};
    }
    return FakeReply{http_reply(404, "{\"error\":{\"code\":\"not_found\",\"message\":\"m\"}}"), false};
  }
};

struct Indicator : PrivacyIndicator {
  std::vector<bool> shown;
  void show_paused(bool paused) override { shown.push_back(paused); }
};

struct Events : LifecycleObserver {
  std::vector<std::string> names;
  void on_lifecycle_event(const LifecycleEvent& e) override { names.push_back(lifecycle_event_name(e.kind)); }
  size_t count(const char* name) const {
    size_t n = 0;
    for (const auto& s : names) n += s == name;
    return n;
  }
};

// One boot of the camera: fresh objects over the surviving NVS and the same server.
struct Boot {
  Boot(LifecycleServer& server, KeyValueStore& kv, TestClock& clock, HeartbeatConfig cfg = HeartbeatConfig())
      : net(server.net), conn(net), api(conn, endpoint), tokens(kv),
        life(api, tokens, kv, clock, rng, cfg, &indicator, &events) {
    parse_base_url("http://api.test/functions/v1", &endpoint);
    tokens.begin();
    life.begin();
  }
  FakeNet net;
  HttpConnection conn;
  ApiEndpoint endpoint;
  LifecycleApi api;
  XorShiftRng rng{7};
  TokenKeeper tokens;
  Indicator indicator;
  Events events;
  DeviceLifecycle life;
  StatusReport report;

  LifecycleStep step() { return life.step(report); }
};

}  // namespace

TEST(heartbeat_reports_status_and_obeys_settings) {
  LifecycleServer server;
  CutKv kv;
  kv.values[kDeviceTokenKey] = "devtok_T0";
  TestClock clock;
  Boot cam(server, kv, clock);
  cam.report.firmware_version = "0.4.0";
  cam.report.free_bytes = 123456789012ull;
  cam.report.queue_depth = 3;
  cam.report.dropped = 2;
  cam.report.quarantined = 1;
  cam.report.last_error = "put: 503\x01 storage_unavailable";
  cam.report.uptime_s = 77;
  cam.report.clock_synced = true;
  CHECK(cam.life.due());
  CHECK(cam.step() == LifecycleStep::Done);
  JsonDoc body(cJSON_Parse(server.heartbeat_bodies.at(0).c_str()));
  CHECK(body);
  double n = 0;
  CHECK(json_number(body.get(), "free_bytes", &n) && n == 123456789012.0);
  CHECK(json_number(body.get(), "queue_depth", &n) && n == 3);
  CHECK_STR(json_string(body.get(), "last_error"), "put: 503? storage_unavailable");
  CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(body.get(), "rssi_dbm")));
  CHECK(!cam.life.settings().paused);
  CHECK(!cam.life.due());
  CHECK_EQ(cam.life.next_at_ms(), clock.mono + 60000);

  // The owner pauses and sets 45 s: obeyed at the next heartbeat, shown, stored in NVS.
  server.paused = true;
  server.interval_s = 45;
  clock.advance_ms(59999);
  CHECK(cam.step() == LifecycleStep::Idle);
  clock.advance_ms(1);
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK(cam.life.settings().paused);
  CHECK_EQ(capture_interval_ms(cam.life.settings(), 30000), 45000u);
  CHECK(cam.indicator.shown == std::vector<bool>({false, true}));
  CHECK_STR(kv.values[kPausedKey], "1");
  CHECK_STR(kv.values[kIntervalKey], "45");
  CHECK_EQ(cam.events.count("settings_changed"), 1u);

  // A reboot without network stays paused (privacy holds through power cuts).
  server.net.refuse_connects = 1000;
  Boot rebooted(server, kv, clock);
  CHECK(rebooted.life.settings().paused);
  CHECK(rebooted.indicator.shown == std::vector<bool>({true}));
  CHECK(rebooted.step() == LifecycleStep::Done);
  CHECK_EQ(rebooted.events.count("heartbeat_failed"), 1u);
  CHECK(rebooted.life.settings().paused);
}

TEST(heartbeat_after_drain_waits_for_the_gap_and_caps_the_server_interval) {
  LifecycleServer server;
  server.next_heartbeat_s = 600;
  CutKv kv;
  kv.values[kDeviceTokenKey] = "devtok_T0";
  TestClock clock;
  HeartbeatConfig cfg;
  cfg.min_gap_ms = 10000;
  cfg.max_interval_ms = 120000;
  Boot cam(server, kv, clock, cfg);
  uint64_t start = clock.mono;
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK_EQ(cam.life.next_at_ms(), start + 120000);
  cam.life.after_drain();
  CHECK_EQ(cam.life.next_at_ms(), start + 10000);
  clock.advance_ms(9999);
  CHECK(cam.step() == LifecycleStep::Idle);
  clock.advance_ms(1);
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK_EQ(server.heartbeat_bodies.size(), 2u);
}

TEST(heartbeat_failures_back_off_and_revocation_is_final) {
  LifecycleServer server;
  CutKv kv;
  kv.values[kDeviceTokenKey] = "devtok_T0";
  TestClock clock;
  Boot cam(server, kv, clock);
  server.net.refuse_connects = 1;
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK(!cam.life.due());
  CHECK(cam.life.next_at_ms() <= clock.mono + 1000);  // first backoff ceiling
  clock.advance_ms(1000);
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK_EQ(cam.events.count("heartbeat"), 1u);
  server.revoked = true;
  clock.advance_ms(60000);
  CHECK(cam.step() == LifecycleStep::TokenDead);
  CHECK(cam.life.token_dead());
  CHECK(!cam.life.due());
  CHECK(kv.values.count(kDeviceTokenKey) == 1);  // kept: the owner may see it in a support session
}

TEST(rotation_on_request_proves_the_successor_before_forgetting_the_old_token) {
  LifecycleServer server;
  server.wants_rotation = true;
  CutKv kv;
  kv.values[kDeviceTokenKey] = "devtok_T0";
  TestClock clock;
  Boot cam(server, kv, clock);
  CHECK(cam.step() == LifecycleStep::TokenChanged);  // heartbeat asked; rotate answered
  CHECK(cam.tokens.proving());
  CHECK_STR(cam.tokens.active(), "devtok_T1");
  CHECK_STR(kv.values[kNextTokenKey], "devtok_T1");
  CHECK_STR(kv.values[kDeviceTokenKey], "devtok_T0");  // both kept until proven
  CHECK(server.current == "devtok_T0");
  CHECK(cam.life.due());
  CHECK(cam.step() == LifecycleStep::TokenChanged);  // the proof
  CHECK(!cam.tokens.proving());
  CHECK_STR(kv.values[kDeviceTokenKey], "devtok_T1");
  CHECK(kv.values.count(kNextTokenKey) == 0);
  CHECK(server.current == "devtok_T1" && server.retired.count("devtok_T0") == 1);
  CHECK_EQ(cam.events.count("rotation_issued"), 1u);
  CHECK_EQ(cam.events.count("rotation_proven"), 1u);
}

TEST(a_successor_the_server_never_knew_falls_back_to_the_current_token) {
  LifecycleServer server;
  CutKv kv;
  kv.values[kDeviceTokenKey] = "devtok_T0";
  kv.values[kNextTokenKey] = "devtok_unknown";
  TestClock clock;
  Boot cam(server, kv, clock);
  CHECK_STR(cam.tokens.active(), "devtok_unknown");
  CHECK(cam.step() == LifecycleStep::TokenChanged);
  CHECK_STR(cam.tokens.active(), "devtok_T0");
  CHECK(kv.values.count(kNextTokenKey) == 0);
  CHECK(cam.step() == LifecycleStep::Done);
  CHECK_EQ(cam.events.count("token_fallback"), 1u);
  CHECK_EQ(cam.events.count("heartbeat"), 1u);
}

// A power cut at every NVS write and every request of a rotation, each cut landing or not
// (writes) or hitting before or after the server handled the request: after the reboot the
// camera always has a working token, never gives up, and completes the rotation.
TEST(rotation_survives_a_power_cut_at_every_step) {
  int cut_runs = 0;
  for (int kind = 0; kind < 2; ++kind) {        // 0: NVS write cut, 1: request cut
    for (int variant = 0; variant < 2; ++variant) {  // lands / handled-then-lost
      for (int k = 0;; ++k) {
        LifecycleServer server;
        server.wants_rotation = true;
        CutKv kv;
        kv.values[kDeviceTokenKey] = "devtok_T0";
        TestClock clock;
        if (kind == 0) {
          kv.writes_until_cut = k;
          kv.cut_lands = variant == 1;
        } else {
          server.requests_until_cut = k;
          server.cut_after_handling = variant == 1;
        }
        bool cut = false;
        {
          Boot cam(server, kv, clock);
          for (int i = 0; i < 6 && !kv.crashed && !server.down; ++i) {
            CHECK(cam.step() != LifecycleStep::TokenDead);
            clock.advance_ms(61000);
          }
          cut = kv.crashed || server.down;
        }
        if (!cut) break;  // k is past the last step of the rotation
        ++cut_runs;
        kv.reboot();
        server.down = false;
        server.requests_until_cut = -1;
        Boot after(server, kv, clock);
        for (int i = 0; i < 6; ++i) {
          LifecycleStep s = after.step();
          if (s == LifecycleStep::TokenDead) {
            t::record_failure(__FILE__, __LINE__, "token dead after a cut: kind " + std::to_string(kind) +
                                                      " variant " + std::to_string(variant) + " k " + std::to_string(k));
            return;
          }
          clock.advance_ms(61000);
        }
        // Rotated, and the device holds exactly the server's token.
        CHECK(server.current != "devtok_T0");
        CHECK(server.retired.count("devtok_T0") == 1);
        CHECK(!after.tokens.proving());
        CHECK_STR(after.tokens.active(), server.current);
        CHECK_STR(kv.values[kDeviceTokenKey], server.current);
        CHECK(kv.values.count(kNextTokenKey) == 0);
        CHECK(after.events.count("heartbeat") >= 1);
      }
    }
  }
  CHECK(cut_runs >= 8);  // 3 NVS writes and 3 requests, each two ways
}
