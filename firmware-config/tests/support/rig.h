#pragma once
// Shared test doubles: a clock under test control, a synthetic camera, and a fake backend
// (API + object storage) that behaves like the real contract unless told otherwise.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "batch_buffers.h"
#include "lifelog/capture_queue.h"
#include "lifelog/clock.h"
#include "lifelog/rng.h"
#include "lifelog/uploader.h"
#include "support/fake_net.h"
#include "support/mem_fs.h"
#include "support/mem_kv.h"

// Card paths of the queue layout (capture_queue.h), as strings for the tests.
std::string photo_at(uint32_t seq);
std::string record_at(uint32_t seq);
std::string failed_at(uint32_t seq);
std::string tmp_at(const std::string& path);
std::string bucket_dir(const char* root, uint32_t seq);
void add_bucket_dirs(MemFs& fs, const char* root, uint32_t seq);  // the group and bucket folders

class TestClock : public lifelog::Clock {
 public:
  uint64_t mono = 1000;
  int64_t wall = 1766744130;  // 2025-12-26T10:15:30Z
  bool synced = true;
  uint64_t monotonic_ms() override { return mono; }
  int64_t wall_utc_s() override { return wall; }
  bool wall_synced() override { return synced; }
  void advance_ms(uint64_t ms) {
    mono += ms;
    wall += int64_t(ms / 1000);
  }
};

// Streams `size` bytes per frame in 1000-byte pieces; content depends on the frame.
class PatternCamera : public lifelog::Camera {
 public:
  uint64_t size = 5000;
  bool fail = false;
  bool capture(uint32_t frame, lifelog::FrameSink& sink) override;
};

class FakeBackend {
 public:
  FakeBackend();
  FakeServer api;
  FakeServer storage;
  std::string token = "devtok_testtoken";
  std::map<uint32_t, std::string> keys;        // seq -> object key handed out
  std::map<std::string, std::string> objects;  // object key -> sha256 of stored bytes
  std::map<std::string, uint64_t> object_sizes;
  std::map<uint32_t, std::string> ingested;    // seq -> object key
  std::vector<std::string> ingest_bodies;
  // Scripted answers, consumed in order when the route matches ("upload-url", "ingest", "PUT",
  // or a whole batch call: "upload-urls", "ingest-batch"). A batch's items are answered as the
  // single route would answer each (functions/devices/batch.ts), so "upload-url" and "ingest"
  // overrides apply to batch items too, in order.
  std::deque<std::pair<std::string, FakeReply>> overrides;
  bool close_every_reply = false;
  // Where upload targets point. Set to the API's host and port to serve PUTs from the API's
  // server, as on Supabase (one host for Functions and Storage).
  std::string storage_host = "storage.test";
  uint16_t storage_port = 9000;
  // Upload URLs expire as presigned S3 URLs do: past X-Amz-Expires (the server's
  // DEVICE_UPLOAD_URL_TTL_SECONDS, 300 by default) the store answers 403 AccessDenied
  // "Request has expired". server_now gives the server's clock (wall seconds).
  int64_t url_ttl_s = 300;
  std::function<int64_t()> server_now;
  size_t batch_calls = 0;   // upload-urls + ingest-batch calls answered
  size_t batch_items = 0;   // items in them

 private:
  FakeReply on_api(const FakeRequest& r);
  FakeReply on_route(const std::string& route, const FakeRequest& r);
  FakeReply on_batch(const std::string& item_route, const FakeRequest& r);
  FakeReply on_storage(const FakeRequest& r);
  bool take_override(const std::string& route, FakeReply* out);
  struct Signed {
    int64_t at;
    std::string sha256_b64;  // empty when the ask carried no checksum
  };
  std::map<std::string, Signed> signatures_;  // X-Amz-Signature -> what it was signed for
};

struct EventLog : lifelog::UploadObserver {
  std::vector<lifelog::UploadEvent> events;
  std::vector<std::string> names;
  void on_upload_event(const lifelog::UploadEvent& e) override {
    events.push_back(e);
    names.push_back(lifelog::upload_event_name(e.kind));
  }
  size_t count(const char* name) const {
    size_t n = 0;
    for (const auto& s : names) n += (s == name);
    return n;
  }
};

struct Rig {
  explicit Rig(uint64_t capacity = UINT64_MAX, uint64_t min_free = 0);
  MemFs fs;
  MemKv kv;
  lifelog::SeqAllocator seqs{kv};
  lifelog::QueueConfig qcfg;
  std::unique_ptr<lifelog::CaptureQueue> queue;
  FakeBackend backend;
  FakeNet api_net{backend.api};
  FakeNet storage_net{backend.storage};
  lifelog::HttpConnection api_conn{api_net};
  lifelog::HttpConnection storage_conn{storage_net};
  TestClock clock;
  lifelog::XorShiftRng rng{42};
  lifelog::ApiEndpoint endpoint;
  lifelog::UploaderConfig ucfg;
  HostBatchBuffers batch_buffers;
  std::string device_token = "devtok_testtoken";  // the device's copy
  EventLog events;
  std::unique_ptr<lifelog::Uploader> uploader;
  PatternCamera camera;
  uint32_t frame = 0;

  void make_uploader();
  bool capture(lifelog::ManifestRecord* out = nullptr);
  // Steps until idle/dead or max steps; skips backoff waits by advancing the clock.
  lifelog::StepResult drain(int max_steps = 200);
};
