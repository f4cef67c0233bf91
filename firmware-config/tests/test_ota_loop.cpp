// The updater inside the device loop, over the simulator's slot files (host/file_ota.*) and a fake
// backend whose heartbeat offers a signed image and whose store serves it in ranges: the loop
// downloads between captures, reports each state in the heartbeat, restarts on the new image,
// confirms it after the first good heartbeat with the new version, and never starts an update on
// a card without room for captures.
#include <sodium.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "file_ota.h"
#include "no_ui.h"
#include "lifelog/device_loop.h"
#include "lifelog/sha256.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

class Wd : public Watchdog {
 public:
  Wd(WatchdogModel& m, Clock& c) : m_(m), c_(c) {}
  void subscribe() override { m_.subscribe(c_.monotonic_ms()); }
  bool feed() override { return m_.feed(c_.monotonic_ms()); }

 private:
  WatchdogModel& m_;
  Clock& c_;
};
class Slot : public CardSlot {
 public:
  bool mount() override { return true; }
  void unmount() override {}
};
class Online : public NetworkLink {
 public:
  void maintain(uint64_t) override {}
  bool connected() override { return true; }
  bool has_networks() override { return true; }
  const char* name() override { return "test"; }
};
struct Events : LoopObserver {
  std::vector<std::string> ota_states;
  int reboots = 0, link_downs = 0, captured = 0;
  void on_loop_event(const LoopEvent& e) override {
    if (e.kind == LoopEventKind::Ota && e.ok) ota_states.push_back(std::string(e.text) + (e.code[0] ? "/" : "") + e.code);
    if (e.kind == LoopEventKind::Ota && !e.ok) ++link_downs;
    if (e.kind == LoopEventKind::RebootForUpdate) ++reboots;
    if (e.kind == LoopEventKind::Captured) ++captured;
  }
};

std::string hex(const uint8_t* p, size_t n) {
  std::string s;
  char b[3];
  for (size_t i = 0; i < n; ++i) {
    snprintf(b, sizeof b, "%02x", p[i]);
    s += b;
  }
  return s;
}

// The fake backend's heartbeat, answered with an offer of `image` as 0.5.0, and its store serving
// the image in ranges, hanging up mid-answer on every fifth GET.
struct OtaBackend {
  std::vector<uint8_t> image;
  uint8_t pk[32], sk[64];
  std::string sha, sig, key_id;
  std::vector<std::string> heartbeats;  // request bodies
  int gets = 0;
  uint64_t served = 0;
  bool offering = true;

  explicit OtaBackend(size_t n) : image(n) {
    if (sodium_init() < 0) abort();
    crypto_sign_keypair(pk, sk);
    for (size_t i = 0; i < n; ++i) image[i] = uint8_t(i * 131 + (i >> 9));
    Sha256 h;
    h.update(image.data(), image.size());
    char s[Sha256::kHexSize];
    h.finish_hex(s);
    sha = s;
    char msg[160];
    size_t len = ota_signed_message("0.5.0", uint32_t(n), sha.c_str(), msg, sizeof msg);
    uint8_t signature[64];
    crypto_sign_detached(signature, nullptr, reinterpret_cast<const unsigned char*>(msg), len, sk);
    sig = hex(signature, 64);
    char id[kOtaKeyIdHex];
    ota_key_id(pk, id);
    key_id = id;
  }
  FakeReply heartbeat(const FakeRequest& r) {
    heartbeats.push_back(r.body);
    std::string update = offering ? ",\"update\":{\"version\":\"0.5.0\",\"min_version\":null,\"size\":" +
                                        std::to_string(image.size()) + ",\"sha256\":\"" + sha + "\",\"signature\":\"" +
                                        sig + "\",\"key_id\":\"" + key_id +
                                        "\",\"download_host\":\"storage.test\",\"download_port\":9000,"
                                        "\"download_path\":\"/firmware/img.bin?sig=1\"}"
                                  : "";
    return FakeReply{http_reply(200, "{\"settings\":{\"paused\":false,\"capture_interval_s\":null},"
                                     "\"next_heartbeat_s\":20,\"rotate_token\":false" + update + "}"),
                     false};
  }
  FakeReply get(const FakeRequest& r) {
    unsigned long a = 0, b = 0;
    auto it = r.headers.find("range");
    if (it == r.headers.end() || sscanf(it->second.c_str(), "bytes=%lu-%lu", &a, &b) != 2) return {http_reply(400, "{}"), false};
    if (a >= image.size()) return {http_reply(416, ""), false};
    if (b >= image.size()) b = image.size() - 1;
    std::string body(reinterpret_cast<const char*>(image.data()) + a, b - a + 1);
    std::string head = "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nContent-Range: bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                       std::to_string(image.size()) + "\r\n\r\n";
    if (++gets % 5 == 0) {
      served += body.size() / 3;
      return {head + body.substr(0, body.size() / 3), true};
    }
    served += body.size();
    return {head + body, false};
  }
};

struct OtaCamera {
  Rig rig;
  OtaBackend backend{150 * 1024 + 11};
  std::string dir;
  WatchdogModel model{120000};
  Wd watchdog{model, rig.clock};
  Slot slot;
  Online link;
  NoPortal portal;
  NoLight light;
  Events events;
  OtaTrustedKey trusted;
  std::function<FakeReply(const FakeRequest&)> api_routes, storage_routes;

  OtaCamera() {
    char tmpl[] = "/tmp/ota-loop-XXXXXX";
    if (!mkdtemp(tmpl)) abort();
    dir = tmpl;
    memcpy(trusted.public_key, backend.pk, 32);
    rig.kv.put_str(kDeviceTokenKey, "devtok_testtoken");
    api_routes = rig.backend.api.handler;
    storage_routes = rig.backend.storage.handler;
    rig.backend.api.handler = [this](const FakeRequest& r) {
      if (r.path.find("/devices/heartbeat") != std::string::npos) return backend.heartbeat(r);
      return api_routes(r);
    };
    rig.backend.storage.handler = [this](const FakeRequest& r) {
      if (r.method == "GET" && r.path.rfind("/firmware/", 0) == 0) return backend.get(r);
      return storage_routes(r);
    };
  }
  ~OtaCamera() {
    std::string cmd = "rm -rf " + dir;
    if (system(cmd.c_str()) != 0) fprintf(stderr, "cleanup of %s failed\n", dir.c_str());
  }

  // One boot: the bootloader decides, the loop runs with the running image's version until the
  // clock reaches `until` or the loop asks for a restart.
  void boot(const char* version, uint64_t run_ms, uint64_t card_reserve = 4 * 1024 * 1024) {
    FileBootState boot(dir);
    CHECK(boot.power_on());
    FileUpdatePartition part(boot, 0x330000);
    OtaUpdater ota(part, boot, rig.kv, &trusted, 1, version);
    DevicePlatform p{rig.fs, slot, rig.kv, rig.api_conn, rig.storage_conn, rig.api_net, rig.clock, rig.camera,
                     watchdog, link, portal, light, rig.rng, rig.rng, events};
    p.ota = &ota;
    DeviceLoopConfig cfg;
    cfg.endpoint = rig.endpoint;
    cfg.boot_id = 1;
    cfg.capture_interval_ms = 5000;
    cfg.upload.batch = rig.batch_buffers.view();
    cfg.heartbeat.firmware_version = version;
    cfg.ota_step_bytes = 8192;
    cfg.ota_card_reserve_bytes = card_reserve;
    DeviceLoop loop(p, cfg);
    loop.begin();
    int reboots = events.reboots;
    uint64_t until = rig.clock.mono + run_ms;
    while (rig.clock.mono < until && events.reboots == reboots) {
      TurnResult t = loop.turn();
      uint64_t wake = t.wake_at_ms > rig.clock.mono ? t.wake_at_ms : rig.clock.mono + 10;
      rig.clock.advance_ms(wake - rig.clock.mono);
    }
    running_slot = boot.running_slot();
  }
  int running_slot = 0;
};

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (const auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

TEST(ota_loop_downloads_between_captures_reboots_and_confirms_the_new_version) {
  OtaCamera cam;
  cam.rig.fs.capacity = 64ull * 1024 * 1024;
  cam.boot("0.4.0", 30 * 60 * 1000);
  CHECK_EQ(cam.events.reboots, 1);  // asked for a restart, the download and checks done
  CHECK(cam.events.link_downs >= 3);  // every fifth GET was cut and the loop went on from there
  CHECK(cam.backend.served < cam.backend.image.size() + uint64_t(cam.events.link_downs + 1) * 4096);
  CHECK(cam.events.captured >= 2);  // captures went on while it downloaded
  CHECK(!cam.model.fired());
  CHECK(has(cam.events.ota_states, "downloading"));
  CHECK(has(cam.events.ota_states, "downloaded"));
  bool reported_downloading = false;
  for (const auto& b : cam.backend.heartbeats) {
    reported_downloading |= b.find("\"ota_state\":\"downloading\"") != std::string::npos &&
                            b.find("\"firmware_version\":\"0.4.0\"") != std::string::npos;
  }
  CHECK(reported_downloading);
  std::vector<uint8_t> slot1(cam.backend.image.size());
  FILE* f = fopen((cam.dir + "/slot1.bin").c_str(), "rb");
  CHECK(f != nullptr);
  CHECK_EQ(fread(slot1.data(), 1, slot1.size(), f), slot1.size());
  fclose(f);
  CHECK(slot1 == cam.backend.image);

  // The new image: pending until a heartbeat with 0.5.0 is answered, then confirmed.
  cam.backend.offering = false;
  size_t before = cam.backend.heartbeats.size();
  cam.boot("0.5.0", 60 * 1000);
  CHECK_EQ(cam.running_slot, 1);
  CHECK(has(cam.events.ota_states, "pending_verify"));
  CHECK(has(cam.events.ota_states, "confirmed"));
  CHECK(cam.backend.heartbeats.size() >= before + 2);
  CHECK(cam.backend.heartbeats[before].find("\"firmware_version\":\"0.5.0\"") != std::string::npos);
  CHECK(cam.backend.heartbeats.back().find("\"ota_state\":\"confirmed\"") != std::string::npos);
  // Confirmed: a further power-on stays on the new slot.
  cam.boot("0.5.0", 1000);
  CHECK_EQ(cam.running_slot, 1);
}

TEST(ota_loop_never_starts_an_update_on_a_card_without_room_for_captures) {
  OtaCamera cam;
  cam.rig.fs.capacity = 2ull * 1024 * 1024;  // less than the reserve the update leaves to captures
  cam.boot("0.4.0", 5 * 60 * 1000);
  CHECK_EQ(cam.backend.gets, 0);
  CHECK_EQ(cam.events.reboots, 0);
  CHECK(cam.backend.heartbeats.size() >= 3);
  CHECK(cam.events.captured >= 10);
}
