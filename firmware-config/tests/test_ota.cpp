// The OTA updater on the host: a slot that behaves like NOR flash, a bootloader modelled on
// ESP-IDF's rollback (a reset while the new image is pending-verify boots the previous one),
// NVS with power cuts, and an image source whose link drops at chosen offsets. Signatures are
// made here with libsodium, the same library that verifies them.
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "file_ota.h"
#include "lifelog/http_image_source.h"
#include "lifelog/ota_offer.h"
#include "lifelog/ota_updater.h"
#include "lifelog/sha256.h"
#include "support/fake_net.h"
#include "support/mem_kv.h"
#include "support/test.h"

using namespace lifelog;

namespace {

uint32_t xorshift(uint32_t& x) {
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}

std::string sha_hex(const std::vector<uint8_t>& bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  char out[Sha256::kHexSize];
  h.finish_hex(out);
  return out;
}

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += digits[p[i] >> 4];
    s += digits[p[i] & 15];
  }
  return s;
}

struct Key {
  uint8_t pk[crypto_sign_PUBLICKEYBYTES];
  uint8_t sk[crypto_sign_SECRETKEYBYTES];
  Key() {
    if (sodium_init() < 0) abort();
    crypto_sign_keypair(pk, sk);
  }
  OtaTrustedKey trusted() const {
    OtaTrustedKey k;
    memcpy(k.public_key, pk, 32);
    return k;
  }
};

// An offer for `image` as `version`, signed by `key` over the given sha256 (normally the image's).
OtaOffer make_offer(const Key& key, const char* version, const std::vector<uint8_t>& image, std::string sha = "",
                    uint32_t size = 0) {
  OtaOffer o;
  snprintf(o.version, sizeof o.version, "%s", version);
  o.size = size ? size : uint32_t(image.size());
  if (sha.empty()) sha = sha_hex(image);
  snprintf(o.sha256, sizeof o.sha256, "%s", sha.c_str());
  char message[160];
  size_t len = ota_signed_message(o.version, o.size, o.sha256, message, sizeof message);
  uint8_t sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message), len, key.sk);
  snprintf(o.signature, sizeof o.signature, "%s", to_hex(sig, sizeof sig).c_str());
  ota_key_id(key.pk, o.key_id);
  return o;
}

std::vector<uint8_t> random_image(size_t n, uint32_t seed) {
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = uint8_t(xorshift(seed));
  return v;
}

// Two app slots and the bootloader's view of them, as ESP-IDF with rollback enabled keeps it.
struct Board {
  std::string versions[2];
  int running = 0;
  int next = -1;         // set_boot chose the other slot
  bool pending = false;  // the running image waits for its confirmation
  int set_boots = 0;
  int rollbacks = 0;

  // A reset (power cut, crash, esp_restart): a pending image that was never confirmed is
  // abandoned for the previous one; a slot set to boot starts pending.
  void reset() {
    if (pending) {
      running = 1 - running;
      pending = false;
      ++rollbacks;
    } else if (next >= 0) {
      running = next;
      pending = true;
    }
    next = -1;
  }
  const std::string& running_version() const { return versions[running]; }
};

// The inactive slot as NOR flash: erase sets 0xFF, a write can only clear bits.
class FlashSlot : public UpdatePartition {
 public:
  FlashSlot(Board& board, uint32_t capacity) : board_(board), bytes(capacity, 0xFF) {}
  uint32_t size() override { return uint32_t(bytes.size()); }
  bool erase_sector(uint32_t offset) override {
    if (offset % kSectorSize) return false;
    for (uint32_t i = offset; i < offset + kSectorSize && i < bytes.size(); ++i) bytes[i] = 0xFF;
    ++erases;
    return true;
  }
  bool write(uint32_t offset, const uint8_t* data, size_t len) override {
    if (offset + len > bytes.size()) return false;
    for (size_t i = 0; i < len; ++i) bytes[offset + i] &= data[i];
    return true;
  }
  bool read(uint32_t offset, uint8_t* data, size_t len) override {
    if (offset + len > bytes.size()) return false;
    memcpy(data, bytes.data() + offset, len);
    return true;
  }
  bool set_boot() override {
    board_.next = 1 - board_.running;
    board_.versions[board_.next] = image_version;
    ++board_.set_boots;
    return true;
  }
  // A half-finished write at a power cut: some bits of the next bytes cleared.
  void tear(uint32_t offset, uint32_t len, uint32_t seed) {
    for (uint32_t i = offset; i < offset + len && i < bytes.size(); ++i) bytes[i] &= uint8_t(xorshift(seed));
  }

  Board& board_;
  std::vector<uint8_t> bytes;
  std::string image_version;  // what the image in this slot reports once booted
  uint32_t erases = 0;
};

class BoardBoot : public BootState {
 public:
  explicit BoardBoot(Board& b) : board_(b) {}
  bool pending_verify() override { return board_.pending; }
  bool confirm() override {
    board_.pending = false;
    return true;
  }
  void rollback_and_reboot() override {
    board_.pending = true;  // marked invalid: the reset goes back
    board_.reset();
    rebooted = true;
  }
  bool rebooted = false;

 private:
  Board& board_;
};

// The image behind a ranged GET. The link drops at each offset in cuts (once each).
class Source : public ImageSource {
 public:
  explicit Source(std::vector<uint8_t> image) : image(std::move(image)) {}
  Result read(uint32_t offset, uint8_t* buf, size_t len, size_t* got, uint64_t* total) override {
    reads.push_back(offset);
    *total = total_override ? total_override : image.size();
    *got = 0;
    if (offset >= image.size()) return Result::Gone;
    size_t n = std::min(len, image.size() - offset);
    for (auto it = cuts.begin(); it != cuts.end(); ++it) {
      if (*it > offset && *it < offset + n) {
        n = *it - offset;
        cuts.erase(it);
        memcpy(buf, image.data() + offset, n);
        *got = n;
        served += n;
        cut_hit = true;
        return Result::LinkDown;
      }
    }
    memcpy(buf, image.data() + offset, n);
    *got = n;
    served += n;
    return Result::Ok;
  }
  std::vector<uint8_t> image;
  std::vector<uint32_t> cuts;
  std::vector<uint32_t> reads;
  uint64_t served = 0;
  uint64_t total_override = 0;
  bool cut_hit = false;
};

constexpr uint32_t kSlot = 0x330000;

struct Rig {
  Key key;
  Board board;
  FlashSlot slot{board, kSlot};
  BoardBoot boot{board};
  MemKv kv;
  OtaTrustedKey trusted[1];
  OtaLimits limits;
  std::unique_ptr<OtaUpdater> ota;
  uint64_t now = 1000;

  explicit Rig(const char* running = "0.3.0") {
    board.versions[0] = running;
    trusted[0] = key.trusted();
    boot_up();
  }
  // Power on (or after a reset): a fresh updater, nothing kept but flash and NVS.
  void boot_up() {
    ota.reset(new OtaUpdater(slot, boot, kv, trusted, 1, board.running_version().c_str(), limits));
    ota->on_boot(now);
  }
  void reset() {
    board.reset();
    kv.reboot();
    boot_up();
  }
  // Steps until the download ends one way or another, or the link drops.
  OtaStep run(ImageSource& src, uint32_t per_step = 16384) {
    for (int i = 0; i < 100000; ++i) {
      OtaStep s = ota->step(src, per_step);
      if (s != OtaStep::Working) return s;
    }
    return OtaStep::Working;
  }
};

}  // namespace

TEST(ota_versions_parse_and_compare_as_numbers) {
  uint32_t a[3], b[3];
  CHECK(parse_version("0.10.0", a));
  CHECK(parse_version("0.9.12", b));
  CHECK(compare_versions(a, b) > 0);
  CHECK(!parse_version("0.3", a));
  CHECK(!parse_version("0.3.0-dirty", a));
  CHECK(!parse_version("1..2", a));
  CHECK(!parse_version("1234567.0.0", a));
  char m[160];
  size_t n = ota_signed_message("1.2.3", 42, "ab", m, sizeof m);
  CHECK_STR(std::string(m, n), "lifelog-firmware-v1\n1.2.3\n42\nab\n");
}

TEST(ota_download_survives_link_drops_and_power_cuts_without_starting_over) {
  Rig rig;
  rig.limits.persist_every_sectors = 2;
  rig.boot_up();
  auto image = random_image(300 * 1024 + 123, 7);
  rig.slot.image_version = "0.4.0";
  OtaOffer offer = make_offer(rig.key, "0.4.0", image);
  Source src(image);
  uint32_t seed = 12345;
  const int kCuts = 14;
  for (int i = 0; i < kCuts; ++i) src.cuts.push_back(1 + xorshift(seed) % uint32_t(image.size() - 1));

  CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
  int power_cuts = 0, link_drops = 0, nvs_cuts = 0;
  OtaStep s = OtaStep::Working;
  for (int round = 0; round < 200 && s != OtaStep::ReadyToReboot; ++round) {
    src.cut_hit = false;
    s = rig.run(src);
    if (s == OtaStep::ReadyToReboot) break;
    CHECK(s == OtaStep::LinkDown);
    CHECK(src.cut_hit);
    uint32_t persisted = 0;
    rig.kv.get_u32("ota_done", &persisted);
    int kind = round % 3;
    if (kind == 0) {
      ++link_drops;  // the same updater goes on from the byte it stopped at
      uint32_t at = rig.ota->bytes_done();
      size_t before = src.reads.size();
      CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
      s = rig.ota->step(src, 1);
      CHECK(src.reads.size() > before);
      CHECK_EQ(src.reads[before], at);
      continue;
    }
    uint32_t at_cut = rig.ota->bytes_done();
    if (kind == 1) {
      ++power_cuts;  // the write in progress is torn and RAM is lost
      rig.slot.tear(at_cut, 3000, seed + round);
    } else {
      ++nvs_cuts;  // the power goes during the next progress write (it lands or not)
      rig.kv.puts_until_cut = 0;
      rig.kv.cut_lands = (round & 4) != 0;
      while (!rig.kv.crashed && rig.ota->step(src, 1) == OtaStep::Working) {
      }
      at_cut = rig.ota->bytes_done();
    }
    rig.reset();
    rig.kv.get_u32("ota_done", &persisted);
    CHECK_STR(rig.board.running_version(), "0.3.0");
    // at most two save intervals are lost (one when the NVS write itself was cut)
    CHECK(at_cut - persisted <= 2 * 2 * UpdatePartition::kSectorSize);
    size_t before = src.reads.size();
    CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
    CHECK_EQ(rig.ota->bytes_done(), persisted);
    s = rig.ota->step(src, 1);
    CHECK(src.reads.size() > before);
    // resumes at the last saved sector, not from zero
    CHECK_EQ(src.reads[before], persisted);
    if (at_cut >= 3 * 2 * UpdatePartition::kSectorSize) CHECK(persisted > 0);
  }
  CHECK(s == OtaStep::ReadyToReboot);
  CHECK(link_drops + power_cuts + nvs_cuts >= 10);
  CHECK(power_cuts + nvs_cuts >= 6);
  CHECK(std::equal(image.begin(), image.end(), rig.slot.bytes.begin()));
  // Each cut costs at most what was not saved yet: two save intervals and a chunk.
  uint64_t bound = image.size() + uint64_t(power_cuts + nvs_cuts) * (2 * 2 * UpdatePartition::kSectorSize + 4096);
  CHECK(src.served >= image.size());
  CHECK(src.served <= bound);
  CHECK_EQ(rig.board.set_boots, 1);
  fprintf(stderr, "    ota resume: %d link drops, %d power cuts, %d NVS cuts; %llu bytes served for a %zu-byte image\n",
          link_drops, power_cuts, nvs_cuts, static_cast<unsigned long long>(src.served), image.size());

  // Boots the new image pending-verify; the first good heartbeat with the new version confirms it.
  rig.reset();
  CHECK_STR(rig.board.running_version(), "0.4.0");
  CHECK(rig.board.pending);
  CHECK(rig.ota->report().state == OtaState::PendingVerify);
  rig.ota->on_heartbeat_ok("0.3.0");  // not a heartbeat of this image
  CHECK(rig.board.pending);
  rig.ota->on_heartbeat_ok("0.4.0");
  CHECK(!rig.board.pending);
  CHECK(rig.ota->report().state == OtaState::Confirmed);
  CHECK_STR(rig.ota->report().version, "0.4.0");
  rig.reset();  // a confirmed image stays
  CHECK_STR(rig.board.running_version(), "0.4.0");
  CHECK_EQ(rig.board.rollbacks, 0);
  CHECK(rig.ota->report().state == OtaState::Confirmed);
}

TEST(ota_each_step_is_bounded_so_capture_and_the_watchdog_keep_their_schedule) {
  Rig rig;
  auto image = random_image(100 * 1024, 3);
  Source src(image);
  CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
  uint64_t last = 0;
  int steps = 0;
  for (OtaStep s = OtaStep::Working; s == OtaStep::Working; ++steps) {
    s = rig.ota->step(src, 8192);
    CHECK(src.served - last <= 8192 + 4096);
    last = src.served;
  }
  CHECK(steps >= 12);
}

TEST(ota_waits_while_the_card_is_full_or_the_battery_low) {
  Rig rig;
  auto image = random_image(8192, 5);
  OtaOffer offer = make_offer(rig.key, "0.4.0", image);
  OtaConditions full;
  full.card_free_bytes = 10'000'000;
  full.card_reserve_bytes = 50'000'000;
  CHECK(rig.ota->offer(offer, full) == OtaStep::Deferred);
  OtaConditions low;
  low.battery_known = true;
  low.battery_low = true;
  CHECK(rig.ota->offer(offer, low) == OtaStep::Deferred);
  CHECK(!rig.ota->downloading());
  CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
}

// What each refusal must leave: the reason, and the boot partition untouched.
#define CHECK_REFUSED(rig, step, reason)                    \
  do {                                                      \
    CHECK((step) == OtaStep::Refused);                      \
    CHECK((rig).ota->report().state == OtaState::Refused);  \
    CHECK_STR((rig).ota->report().error, reason);           \
    CHECK_EQ((rig).board.set_boots, 0);                     \
    CHECK_EQ((rig).board.next, -1);                         \
  } while (0)

TEST(ota_refuses_bad_offers_before_downloading) {
  auto image = random_image(20000, 9);
  {
    Rig rig;  // signed with a key the firmware does not trust
    Key other;
    CHECK_REFUSED(rig, rig.ota->offer(make_offer(other, "0.4.0", image), OtaConditions()), "unknown_key");
  }
  {
    Rig rig;  // the trusted key's id, another key's signature
    Key other;
    OtaOffer o = make_offer(other, "0.4.0", image);
    ota_key_id(rig.key.pk, o.key_id);
    CHECK_REFUSED(rig, rig.ota->offer(o, OtaConditions()), "bad_signature");
  }
  {
    Rig rig;  // a signature over another version
    OtaOffer o = make_offer(rig.key, "0.4.0", image);
    snprintf(o.version, sizeof o.version, "0.5.0");
    CHECK_REFUSED(rig, rig.ota->offer(o, OtaConditions()), "bad_signature");
  }
  {
    Rig rig("0.4.0");  // older than (or as old as) the running version
    CHECK_REFUSED(rig, rig.ota->offer(make_offer(rig.key, "0.3.9", image), OtaConditions()), "not_newer");
    CHECK_REFUSED(rig, rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()), "not_newer");
  }
  {
    Rig rig("0.2.0");  // the running version is below the release's minimum
    OtaOffer o = make_offer(rig.key, "0.4.0", image);
    snprintf(o.min_version, sizeof o.min_version, "0.3.0");
    CHECK_REFUSED(rig, rig.ota->offer(o, OtaConditions()), "below_min_version");
  }
  {
    Rig rig;  // larger than the slot
    CHECK_REFUSED(rig, rig.ota->offer(make_offer(rig.key, "0.4.0", image, "", kSlot + 1), OtaConditions()), "too_large");
  }
  {
    Rig rig;
    Source src(image);
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK_EQ(src.served, 0u);  // nothing downloaded before every check above passed
  }
}

TEST(ota_refuses_an_image_that_is_not_what_was_signed_before_switching) {
  auto image = random_image(50000, 11);
  {
    Rig rig;  // the bytes differ from the signed SHA-256 (one bit on the way)
    auto tampered = image;
    tampered[40000] ^= 0x10;
    Source src(tampered);
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK_REFUSED(rig, rig.run(src), "sha256_mismatch");
    CHECK(!rig.ota->downloading());
  }
  {
    Rig rig;  // a signed SHA-256 that is not the image's
    Source src(image);
    OtaOffer o = make_offer(rig.key, "0.4.0", image, std::string(64, 'a'));
    CHECK(rig.ota->offer(o, OtaConditions()) == OtaStep::Working);
    CHECK_REFUSED(rig, rig.run(src), "sha256_mismatch");
  }
  {
    Rig rig;  // the server's object is not the declared size
    Source src(image);
    src.total_override = image.size() + 10;
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK_REFUSED(rig, rig.run(src), "size_mismatch");
  }
  {
    Rig rig;  // a short object: the source ends before the declared size
    auto shorter = std::vector<uint8_t>(image.begin(), image.begin() + 30000);
    Source src(shorter);
    src.total_override = image.size();
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK(rig.run(src) == OtaStep::LinkDown);  // it waits for the rest, never switches
    CHECK_EQ(rig.board.set_boots, 0);
  }
}

TEST(ota_image_that_never_confirms_rolls_back_by_itself) {
  auto image = random_image(30000, 13);
  {
    Rig rig;  // crashes at boot: the reset before the confirm brings the previous image back
    Source src(image);
    rig.slot.image_version = "0.4.0";
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK(rig.run(src) == OtaStep::ReadyToReboot);
    rig.reset();
    CHECK_STR(rig.board.running_version(), "0.4.0");
    rig.reset();  // the crash
    CHECK_STR(rig.board.running_version(), "0.3.0");
    CHECK_EQ(rig.board.rollbacks, 1);
    CHECK(rig.ota->report().state == OtaState::RolledBack);
    CHECK_STR(rig.ota->report().version, "0.4.0");
    CHECK_STR(rig.ota->report().error, "reset_before_confirm");
    // the same release is not taken again
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Refused);
    CHECK_STR(rig.ota->report().error, "rolled_back_before");
    CHECK_EQ(rig.board.set_boots, 1);
  }
  {
    Rig rig;  // runs, but never reaches the server: rolled back at the deadline
    rig.limits.confirm_deadline_ms = 60000;
    rig.boot_up();
    Source src(image);
    rig.slot.image_version = "0.4.0";
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.0", image), OtaConditions()) == OtaStep::Working);
    CHECK(rig.run(src) == OtaStep::ReadyToReboot);
    rig.reset();
    CHECK(rig.board.pending);
    rig.ota->tick(rig.now + 59999);
    CHECK(!rig.boot.rebooted);
    rig.ota->tick(rig.now + 60000);
    CHECK(rig.boot.rebooted);
    rig.kv.reboot();
    rig.boot_up();
    CHECK_STR(rig.board.running_version(), "0.3.0");
    CHECK(rig.ota->report().state == OtaState::RolledBack);
    CHECK_STR(rig.ota->report().version, "0.4.0");
    CHECK_STR(rig.ota->report().error, "no_heartbeat_on_new_image");
    // a newer fix is taken
    auto fix = random_image(30000, 14);
    Source fixed(fix);
    CHECK(rig.ota->offer(make_offer(rig.key, "0.4.1", fix), OtaConditions()) == OtaStep::Working);
  }
}

TEST(ota_downloads_over_ranged_gets_and_resumes_after_the_server_hangs_up_mid_answer) {
  Rig rig;
  auto image = random_image(90 * 1024 + 7, 21);
  rig.slot.image_version = "0.4.0";
  FakeServer server;
  uint32_t seed = 99;
  int hang_ups = 0;
  uint64_t served = 0;
  server.handler = [&](const FakeRequest& req) {
    unsigned long a = 0, b = 0;
    auto it = req.headers.find("range");
    if (req.method != "GET" || req.path != "/img?sig=1" || it == req.headers.end() ||
        sscanf(it->second.c_str(), "bytes=%lu-%lu", &a, &b) != 2) {
      return FakeReply{http_reply(400, "{}"), false};
    }
    if (a >= image.size()) return FakeReply{http_reply(416, ""), false};
    if (b >= image.size()) b = image.size() - 1;
    std::string body(reinterpret_cast<const char*>(image.data()) + a, b - a + 1);
    std::string raw = "HTTP/1.1 206 Partial Content\r\nContent-Length: " + std::to_string(body.size()) +
                      "\r\nContent-Range: bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                      std::to_string(image.size()) + "\r\n\r\n";
    if (xorshift(seed) % 6 == 0) {  // the link goes mid-answer
      ++hang_ups;
      size_t part = xorshift(seed) % body.size();
      served += part;
      return FakeReply{raw + body.substr(0, part), true};
    }
    served += body.size();
    return FakeReply{raw + body, false};
  };
  FakeNet net(server);
  HttpConnection http(net);
  HttpImageSource source(http, "storage.test", 9000, "/img?sig=1");
  OtaOffer offer = make_offer(rig.key, "0.4.0", image);
  CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
  OtaStep s = OtaStep::Working;
  int link_downs = 0;
  for (int i = 0; i < 500 && s != OtaStep::ReadyToReboot; ++i) {
    s = rig.run(source);
    if (s == OtaStep::LinkDown) ++link_downs;
    if (i == 3) {  // and once the power: a new updater resumes from NVS
      rig.reset();
      CHECK(rig.ota->offer(offer, OtaConditions()) == OtaStep::Working);
      CHECK(rig.ota->bytes_done() > 0);
    }
  }
  CHECK(s == OtaStep::ReadyToReboot);
  CHECK(hang_ups >= 2);
  CHECK(link_downs >= hang_ups);
  CHECK(std::equal(image.begin(), image.end(), rig.slot.bytes.begin()));
  CHECK(served < image.size() + uint64_t(hang_ups + 1) * 4 * 4096);
  // An expired URL (403) is not a link failure: the source says the image is gone.
  FakeServer expired;
  expired.handler = [](const FakeRequest&) { return FakeReply{http_reply(403, "<Error/>"), false}; };
  FakeNet net2(expired);
  HttpConnection http2(net2);
  HttpImageSource gone(http2, "storage.test", 9000, "/img");
  uint8_t buf[16];
  size_t got = 0;
  uint64_t total = 0;
  CHECK(gone.read(0, buf, sizeof buf, &got, &total) == ImageSource::Result::Gone);
  CHECK_EQ(gone.last_status(), 403);
}

TEST(ota_offer_is_read_from_the_heartbeat_answer_and_the_report_written_into_the_request) {
  const std::string sha(64, 'a'), sig(128, 'b');
  std::string answer = "{\"update\":{\"version\":\"0.4.0\",\"min_version\":null,\"size\":123456,\"sha256\":\"" + sha +
                       "\",\"signature\":\"" + sig + "\",\"key_id\":\"0123456789abcdef\",\"url\":\"http://s:9000/b/k?X=1\"," +
                       "\"download_host\":\"s\",\"download_port\":9000,\"download_path\":\"/b/k?X=1\",\"url_expires_in_s\":900}}";
  JsonDoc doc(cJSON_Parse(answer.c_str()));
  OtaOffer offer;
  OtaDownload where;
  CHECK(parse_ota_offer(cJSON_GetObjectItem(doc.get(), "update"), &offer, &where));
  CHECK_STR(offer.version, "0.4.0");
  CHECK_STR(offer.min_version, "");
  CHECK_EQ(offer.size, 123456u);
  CHECK_STR(offer.sha256, sha);
  CHECK_STR(offer.key_id, "0123456789abcdef");
  CHECK_STR(where.host, "s");
  CHECK_EQ(where.port, 9000);
  CHECK_STR(where.path, "/b/k?X=1");
  // anything malformed is no offer at all
  for (const char* bad : {"\"version\":\"0.4\"", "\"size\":-1", "\"size\":1.5", "\"key_id\":\"XYZ\"", "\"download_port\":70000"}) {
    std::string broken = answer;
    std::string field = std::string(bad).substr(0, std::string(bad).find(':'));
    size_t at = broken.find(field + ":");
    size_t end = broken.find_first_of(",}", broken.find(':', at) + (field == "\"version\"" || field == "\"key_id\"" ? 2 : 0));
    if (field == "\"version\"" || field == "\"key_id\"") end = broken.find('"', broken.find(':', at) + 2) + 1;
    broken.replace(at, end - at, bad);
    JsonDoc d(cJSON_Parse(broken.c_str()));
    OtaOffer untouched;
    CHECK(d);
    CHECK(!parse_ota_offer(cJSON_GetObjectItem(d.get(), "update"), &untouched, &where));
    CHECK_EQ(untouched.size, 0u);
  }
  OtaReport report;
  report.state = OtaState::Refused;
  snprintf(report.version, sizeof report.version, "0.4.0");
  snprintf(report.error, sizeof report.error, "bad_signature");
  JsonDoc body(cJSON_CreateObject());
  CHECK(add_ota_report(body.get(), report));
  char* text = cJSON_PrintUnformatted(body.get());
  CHECK_STR(text, "{\"ota_state\":\"refused\",\"ota_version\":\"0.4.0\",\"ota_error\":\"bad_signature\"}");
  cJSON_free(text);
}

TEST(ota_simulator_slots_and_boot_state_live_in_files_and_roll_back_like_the_bootloader) {
  char dir[] = "/tmp/ota-slots-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  Key key;
  OtaTrustedKey trusted = key.trusted();
  auto image = random_image(40000, 31);
  OtaOffer offer = make_offer(key, "0.4.0", image);
  Source src(image);
  {
    FileBootState boot(dir);
    CHECK(boot.power_on());
    CHECK_EQ(boot.running_slot(), 0);
    FileUpdatePartition slot(boot, kSlot);
    FileKeyValueStore kv(std::string(dir) + "/nvs.kv");
    CHECK(kv.load());
    OtaUpdater ota(slot, boot, kv, &trusted, 1, "0.3.0");
    ota.on_boot(0);
    src.cuts.push_back(20000);
    CHECK(ota.offer(offer, OtaConditions()) == OtaStep::Working);
    OtaStep s = OtaStep::Working;
    while (s == OtaStep::Working) s = ota.step(src, 8192);
    CHECK(s == OtaStep::LinkDown);  // and the process dies here
  }
  {
    FileBootState boot(dir);
    CHECK(boot.power_on());
    CHECK_EQ(boot.running_slot(), 0);
    FileUpdatePartition slot(boot, kSlot);
    FileKeyValueStore kv(std::string(dir) + "/nvs.kv");
    CHECK(kv.load());
    OtaUpdater ota(slot, boot, kv, &trusted, 1, "0.3.0");
    ota.on_boot(0);
    CHECK(ota.offer(offer, OtaConditions()) == OtaStep::Working);
    CHECK(ota.bytes_done() > 0);
    OtaStep s = OtaStep::Working;
    while (s == OtaStep::Working) s = ota.step(src, 8192);
    CHECK(s == OtaStep::ReadyToReboot);
    std::vector<uint8_t> back(image.size());
    CHECK(slot.read(0, back.data(), back.size()));
    CHECK(back == image);
  }
  FileBootState boot(dir);
  CHECK(boot.power_on());
  CHECK_EQ(boot.running_slot(), 1);  // the new image, waiting for its confirmation
  CHECK(boot.pending_verify());
  FileBootState again(dir);
  CHECK(again.power_on());  // it died before confirming
  CHECK_EQ(again.running_slot(), 0);
  CHECK(!again.pending_verify());
  std::string cleanup = std::string("rm -rf ") + dir;
  CHECK_EQ(system(cleanup.c_str()), 0);
}

// Made once by the CLI's signing code (scripts/cli/firmware-signing.ts, node:crypto) for the
// image bytes (i * 31 + 7) & 0xff, i < 1000: the camera must accept what `release` signs.
TEST(ota_accepts_a_release_signed_by_the_cli) {
  const char* pk_hex = "aab38cff11cac1049880d6dcb782f8490cec774f2fe06773d28332a8bc0958de";
  OtaTrustedKey trusted;
  for (int i = 0; i < 32; ++i) trusted.public_key[i] = uint8_t(std::stoi(std::string(pk_hex + 2 * i, 2), nullptr, 16));
  char id[kOtaKeyIdHex];
  ota_key_id(trusted.public_key, id);
  CHECK_STR(id, "1a08d465a47c4bc8");
  std::vector<uint8_t> image(1000);
  for (size_t i = 0; i < image.size(); ++i) image[i] = uint8_t((i * 31 + 7) & 0xff);
  CHECK_STR(sha_hex(image), "5097e7d587352f5097062ae679f37bda5802d9f875aba14c8cb4d1a188ada179");
  OtaOffer o;
  snprintf(o.version, sizeof o.version, "0.4.0");
  o.size = 1000;
  snprintf(o.sha256, sizeof o.sha256, "%s", sha_hex(image).c_str());
  snprintf(o.signature, sizeof o.signature, "%s",
           "ab7da45ff3f7eb34ebe2f53594072f23e633bd647cb8c7fd37b68b9f1d526cc8bfaaeaf4ffba3bb9fd6eb776e61b16618579875294c3cebad1dedfa25ba66701");
  snprintf(o.key_id, sizeof o.key_id, "%s", id);
  Board board;
  board.versions[0] = "0.3.0";
  FlashSlot slot(board, kSlot);
  BoardBoot boot(board);
  MemKv kv;
  OtaUpdater ota(slot, boot, kv, &trusted, 1, "0.3.0");
  ota.on_boot(0);
  CHECK(ota.offer(o, OtaConditions()) == OtaStep::Working);
  Source src(image);
  OtaStep s = OtaStep::Working;
  while (s == OtaStep::Working) s = ota.step(src, 4096);
  CHECK(s == OtaStep::ReadyToReboot);
  o.signature[0] = o.signature[0] == 'a' ? 'b' : 'a';  // one nibble off
  OtaUpdater fresh(slot, boot, kv, &trusted, 1, "0.3.0");
  CHECK(fresh.offer(o, OtaConditions()) == OtaStep::Refused);
  CHECK_STR(fresh.report().error, "bad_signature");
}
