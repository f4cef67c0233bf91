// The upload state machine against the fake backend, and its memory use.
#include <cstring>

#include "lifelog/activation_key.h"
#include "lifelog/json.h"
#include "support/heap_meter.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

std::string err(const char* code) { return std::string("{\"error\":{\"code\":\"") + code + "\",\"message\":\"m\"}}"; }

FakeReply reply(int status, const std::string& body, const std::string& extra = "") {
  return FakeReply{http_reply(status, body, extra), false};
}

size_t count_requests(const FakeServer& s, const std::string& suffix) {
  size_t n = 0;
  for (const auto& r : s.log) {
    if (r.path.size() >= suffix.size() && r.path.compare(r.path.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
  }
  return n;
}

}  // namespace

TEST(upload_happy_path_streams_and_deletes) {
  Rig rig;
  rig.camera.size = 20000;
  ManifestRecord rec;
  CHECK(rig.capture(&rec));
  CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 2u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
  CHECK(rig.fs.files.count(photo_at(0)) == 0);
  const std::string& key = rig.backend.ingested[0];
  CHECK_STR(rig.backend.objects[key], rec.sha256);
  CHECK_EQ(rig.backend.object_sizes[key], 20000u);
  // One connection per host for the whole backlog.
  CHECK_EQ(rig.backend.api.connects, 1u);
  CHECK_EQ(rig.backend.storage.connects, 1u);
  // The ingest body carries the contract's fields.
  JsonDoc body(cJSON_Parse(rig.backend.ingest_bodies[0].c_str()));
  CHECK(body);
  CHECK_STR(json_string(body.get(), "object_key"), key);
  CHECK_STR(json_string(body.get(), "captured_at"), "2025-12-26T10:15:30Z");
  CHECK_STR(json_string(body.get(), "content_type"), "image/jpeg");
  bool synced = false;
  CHECK(json_bool(body.get(), "ntp_synced", &synced) && synced);
  const cJSON* meta = cJSON_GetObjectItemCaseSensitive(body.get(), "metadata");
  CHECK_STR(json_string(meta, "sha256"), rec.sha256);
  double size = 0, frame = -1;
  CHECK(json_number(meta, "size", &size) && size == 20000);
  CHECK(json_number(meta, "frame", &frame) && frame == 0);
  // Two photos queued: one upload-urls and one ingest-batch call for both, and the ask got
  // the filename form the server expects.
  CHECK_EQ(rig.backend.api.log.size(), 2u);
  CHECK(rig.backend.api.log[0].path == "/functions/v1/devices/upload-urls");
  CHECK(rig.backend.api.log[1].path == "/functions/v1/devices/ingest-batch");
  JsonDoc first(cJSON_Parse(rig.backend.api.log[0].body.c_str()));
  const cJSON* asked = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(first.get(), "items"), 0);
  CHECK(asked != nullptr);
  CHECK_STR(json_string(asked, "filename"), "2025-12-26T10-15-30Z_000000.jpg");
  CHECK_EQ(rig.events.count("ingested"), 2u);
}

TEST(upload_put_uses_chunks_no_bigger_than_configured) {
  Rig rig;
  rig.ucfg.chunk_size = 1000;
  rig.make_uploader();
  rig.camera.size = 10500;
  CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_STR(rig.backend.storage.log[0].headers["content-length"], "10500");
  CHECK_STR(rig.backend.storage.log[0].headers["content-type"], "image/jpeg");
}

TEST(upload_duplicate_counts_as_done) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"ingest", reply(200, "{\"status\":\"duplicate\",\"item_id\":\"i\"}")});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("duplicate"), 1u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

TEST(upload_url_409_already_ingested_counts_as_done) {
  Rig rig;
  CHECK(rig.capture());
  CHECK(rig.capture());
  rig.backend.overrides.push_back(
      {"upload-url", reply(409, "{\"error\":{\"code\":\"already_ingested\",\"message\":\"m\",\"item_id\":\"i\"}}")});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("duplicate"), 1u);
  CHECK_EQ(rig.events.count("quarantined"), 0u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
  CHECK_EQ(rig.queue->failed_count(), 0u);
  CHECK_EQ(rig.backend.storage.log.size(), 1u);  // only the second photo was PUT
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_put_412_already_stored_goes_on_to_ingest) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"PUT", reply(412, "<Error><Code>PreconditionFailed</Code></Error>")});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("retry"), 0u);
  CHECK_EQ(rig.events.count("quarantined"), 0u);
  // straight from the refused PUT to the ingest (this fake store has no object, so the
  // ingest answers object_missing and the photo is sent again)
  CHECK(rig.backend.api.log.size() >= 2u);
  CHECK(rig.backend.api.log[1].path.find("/ingest") != std::string::npos);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_url_carries_the_photo_sha256) {
  Rig rig;
  ManifestRecord rec;
  CHECK(rig.capture(&rec));
  CHECK(rig.drain() == StepResult::Idle);
  JsonDoc first(cJSON_Parse(rig.backend.api.log[0].body.c_str()));
  CHECK_STR(json_string(first.get(), "sha256"), rec.sha256);
}

TEST(upload_object_missing_sends_bytes_again) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"ingest", reply(409, err("object_missing"))});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("reupload"), 1u);
  CHECK_EQ(rig.backend.storage.log.size(), 2u);  // PUT twice
  CHECK_EQ(count_requests(rig.backend.api, "upload-url"), 2u);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

TEST(upload_resumes_ingest_after_restart_without_reput) {
  Rig rig;
  CHECK(rig.capture());
  // Ingest fails with 503: the record must remember the object key.
  rig.backend.overrides.push_back({"ingest", reply(503, err("unavailable"))});
  CHECK(rig.uploader->step() == StepResult::Progress);
  ManifestRecord rec;
  CHECK(rig.queue->load(0, &rec));
  CHECK(rec.state == RecordState::Uploaded);
  CHECK(rec.object_key[0] != '\0');
  // "Reboot": a new uploader continues with ingest only.
  rig.make_uploader();
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.storage.log.size(), 1u);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_401_stops_and_keeps_photos) {
  Rig rig;
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  rig.backend.token = "devtok_other";  // revoked
  CHECK(rig.drain() == StepResult::TokenDead);
  CHECK(rig.uploader->token_dead());
  CHECK_EQ(rig.queue->pending_count(), 3u);
  CHECK_EQ(rig.events.count("token_dead"), 1u);
  size_t requests = rig.backend.api.log.size();
  CHECK(rig.uploader->step() == StepResult::TokenDead);
  CHECK_EQ(rig.backend.api.log.size(), requests);  // no further traffic
  // A new token resumes uploading.
  rig.uploader->set_token(rig.backend.token.c_str());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.queue->pending_count(), 0u);
}

TEST(upload_5xx_backs_off_then_succeeds) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"upload-url", reply(503, err("storage_unavailable"))});
  rig.backend.overrides.push_back({"upload-url", reply(500, "oops")});
  uint64_t t0 = rig.clock.mono;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.events.count("retry"), 1u);
  uint32_t first_delay = rig.events.events.back().delay_ms;
  CHECK(first_delay <= 1000);
  CHECK_EQ(rig.uploader->ready_at_ms(), t0 + first_delay);
  if (first_delay > 0) CHECK(rig.uploader->step() == StepResult::Waiting);
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("retry"), 2u);
  CHECK(rig.events.events[1].delay_ms <= 2000);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_429_honours_retry_after) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"upload-url", reply(429, err("rate_limited"), "Retry-After: 7\r\n")});
  uint64_t t0 = rig.clock.mono;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.events.events.back().delay_ms, 7000u);
  CHECK_EQ(rig.uploader->ready_at_ms(), t0 + 7000);
  rig.clock.mono += 6999;
  CHECK(rig.uploader->step() == StepResult::Waiting);
  rig.clock.mono += 1;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_connection_dropped_mid_body_retries) {
  Rig rig;
  rig.camera.size = 30000;
  CHECK(rig.capture());
  rig.backend.storage.drop_after_body_bytes = 12000;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK(rig.events.count("retry") >= 1);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_EQ(rig.backend.storage.connects, 2u);  // reconnected once
  CHECK_EQ(rig.backend.objects.size(), 1u);
}

TEST(upload_network_down_then_up) {
  Rig rig;
  CHECK(rig.capture());
  rig.backend.api.refuse_connects = 3;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("retry"), 3u);
  // Delays grow (ceilings 1 s, 2 s, 4 s) and stay within them.
  CHECK(rig.events.events[0].delay_ms <= 1000);
  CHECK(rig.events.events[1].delay_ms <= 2000);
  CHECK(rig.events.events[2].delay_ms <= 4000);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
}

TEST(upload_seq_conflict_quarantines_once) {
  Rig rig;
  CHECK(rig.capture());
  CHECK(rig.capture());
  rig.backend.overrides.push_back({"ingest", reply(409, err("seq_conflict"))});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("quarantined"), 1u);
  CHECK_EQ(rig.queue->failed_count(), 1u);
  CHECK_EQ(rig.backend.ingested.size(), 1u);  // the other photo still went through
  CHECK(rig.fs.exists(failed_at(0)));
  CHECK(rig.fs.exists(photo_at(0)));  // kept for inspection
}

TEST(upload_repeated_4xx_quarantines_after_limit) {
  Rig rig;
  CHECK(rig.capture());
  for (int i = 0; i < 5; ++i) rig.backend.overrides.push_back({"PUT", reply(403, "<Error/>")});
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("retry"), 2u);
  CHECK_EQ(rig.events.count("quarantined"), 1u);
}

TEST(upload_server_closing_every_connection_still_works) {
  Rig rig;
  rig.backend.close_every_reply = true;
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 3u);
  // one per request (upload-urls, ingest-batch; 3 PUTs), none leaked (the fake refuses double connects)
  CHECK_EQ(rig.backend.api.connects, 2u);
  CHECK_EQ(rig.backend.storage.connects, 3u);
}

TEST(activation_returns_token) {
  Rig rig;
  DeviceApi api(rig.api_conn, rig.endpoint);
  Activation a;
  char key[kActivationKeyLength + 1];
  XorShiftRng rng(7);
  CHECK(load_or_create_activation_key(rig.kv, rng, key, sizeof(key)));
  ApiResult r = api.activate("ABCD-EFGH", key, &a);
  CHECK(r.ok());
  CHECK_STR(a.device_token, rig.backend.token);
  CHECK_STR(a.device_id, "dev-1");
  CHECK_STR(rig.backend.api.log[0].body,
            (std::string("{\"pairing_code\":\"ABCD-EFGH\",\"activation_key\":\"") + key + "\"}").c_str());
  CHECK(rig.backend.api.log[0].headers.count("x-device-token") == 0);
}

// The attempt the device and the simulator share: the key survives a failed attempt, so the
// retry sends the same one; success stores token and id and forgets the key.
TEST(activate_device_stores_the_token_and_keeps_the_key_until_then) {
  Rig rig;
  DeviceApi api(rig.api_conn, rig.endpoint);
  XorShiftRng entropy(7);
  Activation a;
  ApiResult r;
  CHECK(activate_device(rig.kv, entropy, api, "", &a, &r) == ActivationOutcome::NoCode);
  CHECK(rig.backend.api.log.empty());
  rig.backend.overrides.push_back({"activate", reply(503, err("unavailable"))});
  CHECK(activate_device(rig.kv, entropy, api, "ABCD-EFGH", &a, &r) == ActivationOutcome::Retry);
  CHECK(r.outcome == ApiOutcome::ServerError);
  char key[kActivationKeyLength + 1];
  CHECK(rig.kv.get_str(kActivationKeyName, key, sizeof(key)));
  CHECK(!rig.kv.get_str(kDeviceTokenKey, key, sizeof(key)));
  CHECK(activate_device(rig.kv, entropy, api, "ABCD-EFGH", &a, &r) == ActivationOutcome::Activated);
  CHECK_STR(rig.backend.api.log[0].body, rig.backend.api.log[1].body);  // same code, same key
  CHECK_STR(a.device_token, rig.backend.token);
  char stored[kActivationKeyLength + 100];
  CHECK(rig.kv.get_str(kDeviceTokenKey, stored, sizeof(stored)));
  CHECK_STR(stored, rig.backend.token);
  CHECK(rig.kv.get_str(kDeviceIdKey, stored, sizeof(stored)));
  CHECK_STR(stored, "dev-1");
  CHECK(!rig.kv.get_str(kActivationKeyName, key, sizeof(key)));
  rig.backend.overrides.push_back({"activate", reply(404, err("invalid_code"))});
  CHECK(activate_device(rig.kv, entropy, api, "WXYZ-0000", &a, &r) == ActivationOutcome::Refused);
  CHECK_EQ(r.status, 404);
  rig.kv.puts_until_cut = 0;  // NVS refuses the token
  CHECK(activate_device(rig.kv, entropy, api, "WXYZ-0000", &a, &r) == ActivationOutcome::StoreFailed);
}

// A read error is not a corrupt record: the photo stays and goes out once the card reads again.
TEST(upload_keeps_record_when_card_read_fails) {
  Rig rig;
  CHECK(rig.capture());
  std::vector<uint8_t> photo = rig.fs.files[photo_at(0)];
  std::vector<uint8_t> manifest = rig.fs.files[record_at(0)];
  rig.fs.reads_fail = true;
  CHECK(rig.uploader->step() == StepResult::StorageError);
  CHECK(rig.fs.files[photo_at(0)] == photo);
  CHECK(rig.fs.files[record_at(0)] == manifest);
  CHECK_EQ(rig.events.count("discarded"), 0u);
  CHECK_EQ(rig.queue->dropped(), 0u);
  rig.fs.reads_fail = false;
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.size(), 1u);
  CHECK_EQ(rig.events.count("ingested"), 1u);
}

TEST(upload_discards_record_that_does_not_parse) {
  Rig rig;
  CHECK(rig.capture());
  CHECK(rig.capture());
  std::string junk = "{\"seq\":0,";  // read completely, but not a record
  rig.fs.files[record_at(0)].assign(junk.begin(), junk.end());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.events.count("discarded"), 1u);
  CHECK_EQ(rig.queue->dropped(), 1u);
  CHECK(!rig.fs.exists(photo_at(0)));
  CHECK_EQ(rig.backend.ingested.size(), 1u);  // the next photo still went out
}

// Peak heap while uploading a 5 MB photo is no higher than for a 50 KB one.
static size_t peak_heap_for_upload(uint64_t size, size_t* put_bytes) {
  std::unique_ptr<Rig> rig(new Rig());
  rig->camera.size = size;
  rig->capture();
  // Warm up connections and caches with a tiny photo so both runs start alike.
  heap_meter::reset_peak();
  size_t base = heap_meter::live();
  rig->drain();
  *put_bytes = rig->backend.object_sizes.empty() ? 0 : rig->backend.object_sizes.begin()->second;
  return heap_meter::peak() - base;
}

TEST(upload_heap_does_not_grow_with_photo_size) {
  size_t small_bytes = 0, big_bytes = 0;
  size_t small_peak = peak_heap_for_upload(50 * 1024, &small_bytes);
  size_t big_peak = peak_heap_for_upload(5 * 1024 * 1024, &big_bytes);
  CHECK_EQ(small_bytes, size_t(50 * 1024));
  CHECK_EQ(big_bytes, size_t(5 * 1024 * 1024));
  if (big_peak > small_peak) fprintf(stderr, "peak heap: 50 KB -> %zu bytes, 5 MB -> %zu bytes\n", small_peak, big_peak);
  CHECK(big_peak <= small_peak);
  CHECK(big_peak < 64 * 1024);
}

TEST(activation_key_is_made_once_and_kept_until_forgotten) {
  MemKv kv;
  XorShiftRng rng(99);
  char first[kActivationKeyLength + 1], again[kActivationKeyLength + 1];
  CHECK(load_or_create_activation_key(kv, rng, first, sizeof(first)));
  CHECK_EQ(strlen(first), kActivationKeyLength);
  CHECK(strspn(first, "0123456789abcdef") == kActivationKeyLength);
  CHECK(load_or_create_activation_key(kv, rng, again, sizeof(again)));
  CHECK_STR(again, first);  // a retry after a lost answer sends the same key
  forget_activation_key(kv);
  CHECK(load_or_create_activation_key(kv, rng, again, sizeof(again)));
  CHECK(strcmp(again, first) != 0);
  char small[8];
  CHECK(!load_or_create_activation_key(kv, rng, small, sizeof(small)));
}

TEST(api_requests_carry_the_boot_and_its_uptime_when_the_endpoint_has_them) {
  Rig rig;
  CHECK(rig.capture());
  CHECK(rig.drain() == StepResult::Idle);
  CHECK(rig.backend.api.log[0].headers.count("x-device-boot") == 0);  // not set: not sent

  Rig booted;
  booted.endpoint.boot_id = 7;
  booted.endpoint.clock = &booted.clock;
  booted.clock.mono = 123456;
  CHECK(booted.capture());
  CHECK(booted.drain() == StepResult::Idle);
  CHECK(!booted.backend.api.log.empty());
  for (const auto& r : booted.backend.api.log) {
    CHECK_STR(r.headers.at("x-device-boot"), "7");
    CHECK_STR(r.headers.at("x-device-uptime-ms"), std::to_string(booted.clock.mono).c_str());
  }
  // The photo store is not the API: no boot clock goes there.
  CHECK(booted.backend.storage.log[0].headers.count("x-device-boot") == 0);
}
