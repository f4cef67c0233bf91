// The batch routes (upload-urls, ingest-batch) from the device: the answer reader, and the
// uploader's windows against the fake backend, whose batch items get the single routes'
// answers (tests/support/rig.cpp) as functions/devices/batch.ts gives them.
#include <algorithm>
#include <cstring>

#include "lifelog/json.h"
#include "batch_buffers.h"
#include "lifelog/capture_queue.h"
#include "support/fake_net.h"
#include "support/fat_card.h"
#include "support/heap_meter.h"
#include "support/mem_kv.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

std::string err(const char* code) { return std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"m\"}}"; }
FakeReply reply(int status, const std::string& body, const std::string& extra = "") {
  return FakeReply{http_reply(status, body, extra), false};
}
const FakeReply kPass{"", false};  // this batch item answers as usual

size_t calls_to(const FakeServer& s, const std::string& route) {
  size_t n = 0;
  for (const auto& r : s.log) n += r.path == "/functions/v1/devices/" + route;
  return n;
}

}  // namespace

TEST(json_array_spans_finds_each_result_whatever_its_strings_hold) {
  const char* text = " { \"x\": [1, {\"results\": 2}], \"s\": \"]}\\\"[\" ,"
                     "\"results\" : [ {\"a\":\"}]\\\\\"}, [1,[2]] ,\"str,\" , 17 ] } ";
  JsonSpan spans[4];
  int n = json_array_spans(text, strlen(text), "results", spans, 4);
  CHECK_EQ(n, 4);
  CHECK_STR(std::string(text + spans[0].at, spans[0].len), "{\"a\":\"}]\\\\\"}");
  CHECK_STR(std::string(text + spans[1].at, spans[1].len), "[1,[2]]");
  CHECK_STR(std::string(text + spans[2].at, spans[2].len), "\"str,\"");
  CHECK_STR(std::string(text + spans[3].at, spans[3].len), "17");
  CHECK_EQ(json_array_spans(text, strlen(text), "results", spans, 3), -1);  // more than cap
  CHECK_EQ(json_array_spans("{\"results\":[]}", 14, "results", spans, 4), 0);
  CHECK_EQ(json_array_spans("{\"other\":[1]}", 13, "results", spans, 4), -1);
  for (const char* bad : {"", "[1]", "{\"results\":[1,}", "{\"results\":[{\"a\":1}", "{\"results\":[1] x}",
                          "{\"results\":[\"open]}", "{results:[1]}"}) {
    CHECK_EQ(json_array_spans(bad, strlen(bad), "results", spans, 4), -1);
  }
}

TEST(batch_drain_takes_two_calls_per_32_photos_on_one_connection_per_host) {
  Rig rig;
  rig.camera.size = 3000;
  std::vector<std::string> sha(40);
  for (int i = 0; i < 40; ++i) {
    ManifestRecord rec;
    CHECK(rig.capture(&rec));
    sha[i] = rec.sha256;
  }
  CHECK(rig.drain(400) == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 40u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
  for (uint32_t seq = 0; seq < 40; ++seq) CHECK_STR(rig.backend.objects[rig.backend.ingested[seq]], sha[seq]);
  CHECK_EQ(calls_to(rig.backend.api, "upload-urls"), 2u);   // 32 + 8
  CHECK_EQ(calls_to(rig.backend.api, "ingest-batch"), 2u);
  CHECK_EQ(rig.backend.api.log.size(), 4u);
  CHECK_EQ(rig.backend.batch_items, 80u);
  CHECK_EQ(rig.backend.storage.log.size(), 40u);
  CHECK_EQ(rig.backend.api.connects, 1u);
  CHECK_EQ(rig.backend.storage.connects, 1u);
  // At most one PUT per step: a step's time stays one photo's.
  CHECK_EQ(rig.events.count("uploaded"), 40u);
}

TEST(batch_with_one_photo_queued_uses_the_single_routes) {
  Rig rig;
  CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(calls_to(rig.backend.api, "upload-url"), 1u);
  CHECK_EQ(calls_to(rig.backend.api, "ingest"), 1u);
  CHECK_EQ(rig.backend.batch_calls, 0u);
}

TEST(batch_max_batch_1_keeps_to_the_single_routes) {
  Rig rig;
  rig.ucfg.max_batch = 1;
  rig.make_uploader();
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 3u);
  CHECK_EQ(calls_to(rig.backend.api, "upload-url"), 3u);
  CHECK_EQ(rig.backend.batch_calls, 0u);
}

// Each item is the single route's: one refused for good, one that must wait, the others go
// on; the wait is decided once for the call (one backoff step, not one per failed item).
TEST(batch_items_keep_their_own_outcomes) {
  Rig rig;
  for (int i = 0; i < 5; ++i) CHECK(rig.capture());
  rig.backend.overrides.push_back({"upload-url", kPass});
  rig.backend.overrides.push_back({"upload-url", reply(503, err("storage_unavailable"))});
  rig.backend.overrides.push_back({"upload-url", reply(413, err("photo_too_large"))});
  rig.backend.overrides.push_back({"upload-url", reply(409, err("already_ingested"))});
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.events.count("quarantined"), 1u);   // seq 2
  CHECK_EQ(rig.events.count("duplicate"), 1u);     // seq 3: nothing to PUT
  CHECK_EQ(rig.events.count("retry"), 1u);         // seq 1
  const UploadEvent& retry = *std::find_if(rig.events.events.begin(), rig.events.events.end(),
                                           [](const UploadEvent& e) { return e.kind == UploadEventKind::Retry; });
  CHECK_EQ(retry.seq, 1u);
  CHECK(retry.delay_ms <= 1000u);  // the first backoff step
  CHECK(rig.queue->failed_count() == 1u);
  CHECK(rig.drain() == StepResult::Idle);
  // 0, 1 and 4 ingested once each; 2 quarantined; 3 was already in.
  CHECK_EQ(rig.backend.ingested.size(), 3u);
  CHECK(rig.backend.ingested.count(0) && rig.backend.ingested.count(1) && rig.backend.ingested.count(4));
  CHECK_EQ(rig.backend.storage.log.size(), 3u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

TEST(batch_ingest_object_missing_sends_that_photo_again_only) {
  Rig rig;
  for (int i = 0; i < 4; ++i) CHECK(rig.capture());
  rig.backend.overrides.push_back({"ingest", kPass});
  rig.backend.overrides.push_back({"ingest", reply(409, err("object_missing"))});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("reupload"), 1u);
  CHECK_EQ(rig.backend.storage.log.size(), 5u);  // 4 PUTs and seq 1 again
  CHECK_EQ(rig.backend.ingested.size(), 4u);
  CHECK_EQ(rig.events.count("retry"), 0u);
}

// A server that fails the batch as a whole gets smaller batches, down to the single routes,
// and bigger ones again once a call goes through.
TEST(batch_whole_call_failures_halve_the_window_then_it_grows_back) {
  Rig rig;
  rig.ucfg.loads_per_step = 0;  // each step below is one call: the window loads in one step
  rig.make_uploader();
  for (int i = 0; i < 40; ++i) CHECK(rig.capture());
  rig.backend.overrides.push_back({"upload-urls", reply(500, err("internal"))});
  rig.backend.overrides.push_back({"upload-urls", reply(500, err("internal"))});
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.uploader->batch_limit(), 16u);
  rig.clock.mono = rig.uploader->ready_at_ms();
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.uploader->batch_limit(), 8u);
  CHECK(rig.drain(400) == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 40u);
  CHECK_EQ(rig.uploader->batch_limit(), 32u);
  JsonDoc third(cJSON_Parse(rig.backend.api.log[2].body.c_str()));  // the first call that went through
  CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(third.get(), "items")), 8);
  CHECK_EQ(rig.events.count("retry"), 2u);  // charged to the oldest photo, as the single route would
}

TEST(batch_call_401_stops_uploading) {
  Rig rig;
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  rig.backend.token = "devtok_other";
  CHECK(rig.drain() == StepResult::TokenDead);
  CHECK_EQ(rig.events.count("token_dead"), 1u);
  CHECK_EQ(rig.queue->pending_count(), 3u);
  CHECK(rig.uploader->step() == StepResult::TokenDead);
  CHECK_EQ(rig.backend.api.log.size(), 1u);
}

// Supabase serves Functions and Storage from one host: the PUTs then share the API's
// connection, one TCP connection (one TLS session on the board) for the whole drain.
TEST(batch_targets_on_the_api_host_share_its_connection) {
  Rig rig;
  rig.backend.storage_host = "api.test";
  rig.backend.storage_port = 54321;
  for (int i = 0; i < 10; ++i) CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 10u);
  CHECK_EQ(rig.backend.api.connects, 1u);
  CHECK_EQ(rig.backend.storage.connects, 0u);
  CHECK_EQ(rig.backend.api.log.size(), 12u);  // upload-urls, 10 PUTs, ingest-batch
}

// A target older than target_life_ms is asked for again, not PUT with a URL about to expire.
TEST(batch_stale_targets_are_asked_for_again) {
  Rig rig;
  rig.backend.url_ttl_s = 60;  // the store refuses these URLs after 60 s
  rig.ucfg.target_life_ms = 50000;
  rig.make_uploader();
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  CHECK(rig.uploader->step() == StepResult::Progress);  // upload-urls + PUT of seq 0
  CHECK_EQ(rig.backend.storage.log.size(), 1u);
  rig.clock.advance_ms(60001);
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(calls_to(rig.backend.api, "upload-urls"), 2u);  // asked again for 1 and 2
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 3u);
  CHECK_EQ(rig.backend.storage.log.size(), 3u);  // no PUT on an expired URL
  CHECK_EQ(rig.events.count("retry"), 0u);
}

// A slow link: the window asks for no more targets than it can PUT while they live.
TEST(batch_asks_for_what_the_measured_link_can_send_in_time) {
  Rig rig;
  rig.ucfg.target_life_ms = 24000;
  rig.make_uploader();
  rig.camera.size = 10000;
  for (int i = 0; i < 12; ++i) CHECK(rig.capture());
  rig.storage_net.on_write = [&](size_t n) { rig.clock.advance_ms(n / 2); };  // 2 KB/s
  CHECK(rig.drain(400) == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 12u);
  // The first ask (nothing measured yet) took all 12; their targets went stale after 5 PUTs.
  // The PUTs measured ~1.94 KB/s (headers count): 12 s of PUTs per ask (half a target's
  // life) = 2 photos per ask from then on.
  JsonDoc later(cJSON_Parse(rig.backend.api.log[1].body.c_str()));
  CHECK(rig.backend.api.log[1].path == "/functions/v1/devices/upload-urls");
  CHECK_EQ(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(later.get(), "items")), 2);
  CHECK_EQ(rig.events.count("retry"), 0u);
}

// The answer to 32 asks is read into the glue's buffer and one result at a time: the heap
// peak stays that of a few small JSON trees.
TEST(batch_heap_peak_stays_small_for_a_full_window) {
  Rig rig;
  rig.camera.size = 2000;
  for (int i = 0; i < 32; ++i) CHECK(rig.capture());
  heap_meter::reset_peak();
  size_t base = heap_meter::live();
  CHECK(rig.drain(400) == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 32u);
  size_t peak = heap_meter::peak() - base;
  CHECK(peak < 24 * 1024);
}

// A new batch answer replaces the last: a photo whose target was in the old one is asked for
// again with it, never PUT with another photo's target (here: the ask after a failed PUT).
TEST(batch_targets_from_a_replaced_answer_are_asked_again) {
  Rig rig;
  rig.ucfg.target_life_ms = 24000;
  rig.make_uploader();
  rig.camera.size = 10000;
  std::vector<std::string> sha;
  for (int i = 0; i < 12; ++i) {
    ManifestRecord rec;
    CHECK(rig.capture(&rec));
    sha.push_back(rec.sha256);
  }
  rig.storage_net.on_write = [&](size_t n) { rig.clock.advance_ms(n / 2); };  // 2 KB/s
  for (int i = 0; i < 5; ++i) CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.backend.storage.log.size(), 5u);  // seqs 0-4 on the first answer's targets
  // The next PUT (seq 5, the first of a 2-photo ask) breaks, and so does the reconnect.
  rig.backend.storage.drop_after_body_bytes = 100;
  rig.backend.storage.refuse_connects = 1;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.events.count("retry"), 1u);
  CHECK(rig.drain(400) == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 12u);
  for (uint32_t seq = 0; seq < 12; ++seq) {
    CHECK_STR(rig.backend.ingested[seq], rig.backend.keys[seq]);
    CHECK_STR(rig.backend.objects[rig.backend.keys[seq]], sha[seq]);
  }
}

// On arduino-esp32 3.x (FatCard's default order) an open or a remove costs three folder
// lookups: a window's 32 loads, or the 64 removes after its ingest, in one step would be about
// 100 or 200. The window loads loads_per_step records a step and the ingested photos leave the
// card completions_per_step a step, so no step does more than about one of those shares.
TEST(batch_card_work_per_step_is_bounded_on_the_3x_card) {
  FatCard fs;
  MemKv kv;
  SeqAllocator seqs(kv);
  QueueConfig qcfg;
  CaptureQueue queue(fs, kv, seqs, qcfg);
  seqs.begin();
  CHECK(queue.begin());
  PatternCamera cam;
  cam.size = 600;
  CaptureStamp stamp;
  stamp.ntp_synced = true;
  stamp.boot_id = 1;
  const uint32_t photos = 70;
  for (uint32_t i = 0; i < photos; ++i) {
    stamp.wall_s = 1766744130 + int64_t(i) * 30;
    CHECK(queue.capture(cam, i, stamp, nullptr) == CaptureStatus::Ok);
  }
  TestClock clock;
  clock.synced = true;
  clock.wall = 1766744130 + 3600;
  FakeBackend backend;
  FakeNet api_net(backend.api), storage_net(backend.storage);
  HttpConnection api_conn(api_net), storage_conn(storage_net);
  XorShiftRng rng(7);
  ApiEndpoint endpoint;
  CHECK(parse_base_url("http://api.test:54321/functions/v1", &endpoint));
  UploaderConfig ucfg;
  ucfg.device_token = backend.token.c_str();
  ucfg.boot_id = 2;
  HostBatchBuffers buffers;
  ucfg.batch = buffers.view();
  Uploader uploader(queue, api_conn, storage_conn, clock, rng, endpoint, ucfg);
  uint64_t most = 0;
  size_t card_only_steps = 0;
  for (int i = 0; i < 1000; ++i) {
    uint64_t before = fs.lookups;
    size_t calls = backend.api.log.size() + backend.storage.log.size();
    StepResult r = uploader.step();
    most = std::max(most, fs.lookups - before);
    card_only_steps += backend.api.log.size() + backend.storage.log.size() == calls && r == StepResult::Progress;
    if (r == StepResult::Idle) break;
    if (r != StepResult::Progress) clock.advance_ms(1000);
  }
  CHECK_EQ(backend.ingested.size(), size_t(photos));
  CHECK_EQ(queue.pending_count(), 0u);
  CHECK(card_only_steps > 0);
  // 16 loads (three lookups each) or 8 photos' two removes (three each), plus one PUT's own.
  CHECK(most <= 16 * 3 + 20);
}

// The server refuses more upload URLs while the device holds too many open ones; ingesting
// the photos already sent is what frees them, so that goes first instead of the server's wait.
TEST(batch_too_many_reservations_ingests_what_is_sent_before_waiting) {
  Rig rig;
  for (int i = 0; i < 5; ++i) CHECK(rig.capture());
  for (int i = 0; i < 4; ++i) rig.backend.overrides.push_back({"upload-url", kPass});
  rig.backend.overrides.push_back({"upload-url", reply(429, err("too_many_reservations"), "Retry-After: 3600\r\n")});
  // A minute of steps, a second apart: far less than the hour the server named.
  for (int i = 0; i < 60 && rig.backend.ingested.size() < 5; ++i) {
    rig.uploader->step();
    rig.clock.advance_ms(1000);
  }
  CHECK_EQ(calls_to(rig.backend.api, "ingest-batch"), 1u);  // 0..3 together
  CHECK_EQ(rig.backend.ingested.size(), 5u);                 // then 4, asked again once they were in
  CHECK_EQ(calls_to(rig.backend.api, "upload-urls"), 1u);
  CHECK_EQ(calls_to(rig.backend.api, "upload-url"), 1u);      // seq 4 alone
  CHECK_EQ(rig.events.count("retry"), 1u);                   // the refusal is reported
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 5u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

// With nothing sent to ingest, the refusal's Retry-After is obeyed as before.
TEST(batch_too_many_reservations_with_nothing_to_ingest_obeys_retry_after) {
  Rig rig;
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  for (int i = 0; i < 3; ++i)
    rig.backend.overrides.push_back({"upload-url", reply(429, err("too_many_reservations"), "Retry-After: 120\r\n")});
  uint64_t t0 = rig.clock.mono;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK(rig.uploader->ready_at_ms() >= t0 + 120000);
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 3u);
}
