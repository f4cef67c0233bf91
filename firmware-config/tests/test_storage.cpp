// Card-side behaviour: atomic replacement, seq reservation, the capture queue and eviction.
#include <cstring>
#include <set>

#include "lifelog/atomic_file.h"
#include "lifelog/capture_queue.h"
#include "lifelog/manifest.h"
#include "lifelog/seq_allocator.h"
#include "lifelog/sha256.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

ManifestRecord sample_record(uint32_t seq) {
  ManifestRecord r;
  r.seq = seq;
  r.frame = seq + 100;
  r.size = 12345;
  strcpy(r.sha256, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  r.stamp.wall_s = 1766744130;
  r.stamp.mono_ms = 5000;
  r.stamp.boot_id = 3;
  r.stamp.ntp_synced = true;
  return r;
}

bool same_record(const ManifestRecord& a, const ManifestRecord& b) {
  return a.seq == b.seq && a.frame == b.frame && a.state == b.state && a.size == b.size &&
         strcmp(a.sha256, b.sha256) == 0 && strcmp(a.object_key, b.object_key) == 0 &&
         a.stamp.wall_s == b.stamp.wall_s && a.stamp.ntp_synced == b.stamp.ntp_synced;
}

bool any_tmp(const MemFs& fs) {
  for (const auto& kv : fs.files) {
    if (kv.first.size() > 4 && kv.first.compare(kv.first.size() - 4, 4, ".tmp") == 0) return true;
  }
  return false;
}

// Saves `rec` with the power cut after `budget` bytes written, reboots, and opens the queue
// again as the next boot does.
struct AfterCutSave {
  AfterCutSave(Rig& rig, const ManifestRecord& rec, int64_t budget)
      : completed(save_with_cut(rig, rec, budget)), seqs(rig.kv), q(rig.fs, rig.kv, seqs, rig.qcfg) {}
  static bool save_with_cut(Rig& rig, const ManifestRecord& rec, int64_t budget) {
    rig.fs.budget = budget;
    rig.queue->save(rec);
    bool completed = !rig.fs.crashed;
    rig.fs.reboot();
    return completed;
  }
  bool completed;  // the save was through before the cut
  SeqAllocator seqs;
  CaptureQueue q;
};

}  // namespace

TEST(manifest_round_trips_through_json) {
  ManifestRecord r = sample_record(7);
  r.state = RecordState::Uploaded;
  strcpy(r.object_key, "devices/d/7-x.jpg");
  char buf[kManifestMaxBytes];
  size_t n = manifest_to_json(r, buf, sizeof(buf));
  CHECK(n > 0);
  ManifestRecord back;
  CHECK(manifest_from_json(buf, n, &back));
  CHECK(same_record(r, back));
  // Every strict prefix of a record is rejected: a torn file can never pass as a record.
  for (size_t k = 0; k + 1 < n; ++k) CHECK(!manifest_text_valid(buf, k));
}

// Replacing a record PENDING -> UPLOADED with a power cut at every byte/operation.
TEST(manifest_survives_cut_at_every_offset) {
  ManifestRecord old_rec = sample_record(42);
  ManifestRecord new_rec = old_rec;
  new_rec.state = RecordState::Uploaded;
  strcpy(new_rec.object_key, "devices/dev-1/42-2025-12-26T10-15-30Z_000042.jpg");
  size_t saw_old = 0, saw_new = 0;
  bool completed = false;
  for (int64_t k = 0; !completed && k < 10000; ++k) {
    Rig rig;
    add_bucket_dirs(rig.fs, kQueueDir, 42);  // as a capture leaves it
    CHECK(rig.queue->save(old_rec));
    AfterCutSave after(rig, new_rec, k);
    completed = after.completed;
    CHECK(after.q.begin());
    ManifestRecord got;
    CHECK(after.q.load(42, &got));
    bool is_old = same_record(got, old_rec), is_new = same_record(got, new_rec);
    CHECK(is_old || is_new);
    saw_old += is_old;
    saw_new += is_new;
    CHECK(!any_tmp(rig.fs));
  }
  CHECK(completed);
  CHECK(saw_old > 50);  // the cut really landed inside the write many times
  CHECK(saw_new >= 1);
}

// Creating a record from nothing: after a cut it is absent or complete, never torn.
TEST(new_manifest_is_absent_or_complete_after_cut) {
  ManifestRecord rec = sample_record(5);
  bool completed = false;
  for (int64_t k = 0; !completed && k < 10000; ++k) {
    Rig rig;
    add_bucket_dirs(rig.fs, kQueueDir, 5);
    AfterCutSave after(rig, rec, k);
    completed = after.completed;
    CHECK(after.q.begin());
    ManifestRecord got;
    if (after.q.load(5, &got)) {
      CHECK(same_record(got, rec));
    } else {
      CHECK(!rig.fs.exists(record_at(5)));
    }
    CHECK(!any_tmp(rig.fs));
  }
  CHECK(completed);
}

TEST(recovery_promotes_tmp_when_target_was_removed) {
  MemFs fs;
  add_bucket_dirs(fs, kQueueDir, 9);
  ManifestRecord rec = sample_record(9);
  char buf[kManifestMaxBytes];
  size_t n = manifest_to_json(rec, buf, sizeof(buf));
  CHECK_STR(tmp_at(record_at(9)), "/queue/00000/000000/00000009.tmp");  // 8.3, one FAT entry
  fs.files[tmp_at(record_at(9))] = std::vector<uint8_t>(buf, buf + n);
  char scratch[kManifestMaxBytes + 1];
  CHECK(recover_file(fs, record_at(9).c_str(), manifest_text_valid, scratch, sizeof(scratch)) ==
        Recovery::PromotedTmp);
  CHECK(fs.exists(record_at(9).c_str()));
  CHECK(!fs.exists(tmp_at(record_at(9)).c_str()));
  // A torn tmp with no target is dropped.
  fs.files[tmp_at(record_at(10))] = std::vector<uint8_t>(buf, buf + n / 2);
  CHECK(recover_file(fs, record_at(10).c_str(), manifest_text_valid, scratch, sizeof(scratch)) ==
        Recovery::DroppedTmp);
  CHECK(!fs.exists(tmp_at(record_at(10)).c_str()));
}

TEST(seq_never_repeats_across_power_cuts) {
  MemKv kv;
  XorShiftRng rng(20251226);
  std::set<uint32_t> used;
  uint32_t last = 0;
  bool any = false;
  size_t cuts_landed = 0;
  for (int boot = 0; boot < 5000; ++boot) {
    kv.reboot();
    uint32_t r = rng.next_u32();
    if (r % 3 != 0) {
      kv.puts_until_cut = int64_t(rng.next_u32() % 4);
      kv.cut_lands = (rng.next_u32() & 1) != 0;
    }
    SeqAllocator alloc(kv, 1 + rng.next_u32() % 20);
    alloc.begin();
    uint32_t wanted = rng.next_u32() % 50;
    for (uint32_t i = 0; i < wanted; ++i) {
      uint32_t s;
      if (!alloc.next(&s)) break;
      CHECK(used.insert(s).second);  // never handed out twice
      CHECK(!any || s > last);       // and always increasing
      last = s;
      any = true;
    }
    if (kv.crashed && kv.cut_lands) ++cuts_landed;
  }
  CHECK(used.size() > 10000);
  CHECK(cuts_landed > 100);
}

// Whole captures cut at random points (card and NVS): committed photos stay intact and
// no seq is ever committed twice.
TEST(capture_survives_random_power_cuts) {
  XorShiftRng rng(7);
  MemFs fs;
  MemKv kv;
  std::set<uint32_t> committed;
  uint32_t frame = 0;
  PatternCamera cam;
  for (int boot = 0; boot < 400; ++boot) {
    fs.reboot();
    kv.reboot();
    SeqAllocator seqs(kv, 4);
    QueueConfig cfg;
    cfg.min_free_bytes = 0;
    CaptureQueue q(fs, kv, seqs, cfg);
    seqs.begin();
    CHECK(q.begin());
    // After recovery: no tmp files, every record valid, its photo present with matching hash.
    // Settling is lazy: begin() settles the newest bucket, the first peek the oldest one;
    // cuts only land in those (captures go to the newest, completions take the oldest).
    uint32_t oldest_seq;
    q.peek_oldest(&oldest_seq);
    for (const auto& f : fs.files) {
      uint32_t seq;
      CardName kind;
      size_t slash = f.first.rfind('/');
      CHECK(parse_card_name(f.first.c_str() + slash + 1, &seq, &kind));
      if (f.first.compare(0, 7, "/queue/") != 0) continue;
      CHECK(kind != CardName::Tmp);
      if (kind != CardName::Record) continue;
      ManifestRecord rec;
      CHECK(q.load(seq, &rec));
      CHECK(fs.files.count(photo_at(seq)) == 1);
      Sha256 h;
      h.update(fs.files[photo_at(seq)].data(), fs.files[photo_at(seq)].size());
      char hex[65];
      h.finish_hex(hex);
      CHECK_STR(hex, rec.sha256);
      committed.insert(seq);
    }
    for (const auto& f : fs.files) {
      uint32_t seq;
      CardName kind;
      size_t slash = f.first.rfind('/');
      if (f.first.compare(0, 7, "/queue/") == 0 && parse_card_name(f.first.c_str() + slash + 1, &seq, &kind) &&
          kind == CardName::Photo) {
        CHECK(fs.files.count(record_at(seq)) == 1);  // no orphan photos
      }
    }
    // Drain some so the queue does not grow forever, then arm a cut and capture.
    uint32_t oldest;
    if (rng.next_u32() % 2 && q.peek_oldest(&oldest)) q.complete(oldest);
    fs.budget = int64_t(rng.next_u32() % 12000);
    if (rng.next_u32() % 4 == 0) {
      kv.puts_until_cut = int64_t(rng.next_u32() % 2);
      kv.cut_lands = rng.next_u32() & 1;
    }
    cam.size = 1000 + rng.next_u32() % 4000;
    for (int i = 0; i < 3; ++i) {
      ManifestRecord rec;
      if (q.capture(cam, frame, CaptureStamp(), &rec) != CaptureStatus::Ok) break;
      ++frame;
    }
  }
  CHECK(committed.size() > 100);
}

TEST(oldest_first_and_cache_follows_new_captures) {
  Rig rig;
  for (int i = 0; i < 40; ++i) CHECK(rig.capture());
  for (uint32_t expect = 0; expect < 40; ++expect) {
    uint32_t seq;
    CHECK(rig.queue->peek_oldest(&seq));
    CHECK_EQ(seq, expect);
    CHECK(rig.queue->complete(seq));
    if (expect == 20) CHECK(rig.capture());  // a newer photo must not jump the line
  }
  uint32_t seq;
  CHECK(rig.queue->peek_oldest(&seq));
  CHECK_EQ(seq, 40u);
  CHECK(rig.queue->complete(seq));
  CHECK(!rig.queue->peek_oldest(&seq));
}

TEST(eviction_drops_oldest_first_and_counts) {
  // 10 photos of 5000 bytes fit in 60000 bytes with room for manifests; keep 12000 free.
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 20; ++i) CHECK(rig.capture());
  uint32_t oldest;
  CHECK(rig.queue->peek_oldest(&oldest));
  uint32_t remaining = rig.queue->pending_count();
  CHECK(remaining < 20);
  CHECK_EQ(oldest, 20u - remaining);  // exactly the oldest ones were dropped
  CHECK_EQ(rig.queue->dropped(), 20u - remaining);
  uint32_t persisted = 0;
  CHECK(rig.kv.get_u32(kDroppedKey, &persisted));
  CHECK_EQ(persisted, rig.queue->dropped());
  // A fresh queue over the same NVS remembers the count.
  SeqAllocator seqs(rig.kv);
  CaptureQueue again(rig.fs, rig.kv, seqs, rig.qcfg);
  CHECK(again.begin());
  CHECK_EQ(again.dropped(), rig.queue->dropped());
}

TEST(eviction_never_takes_the_photo_in_flight) {
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 8; ++i) CHECK(rig.capture());
  rig.queue->set_in_flight(0);
  for (int i = 0; i < 10; ++i) CHECK(rig.capture());
  CHECK(rig.fs.exists(photo_at(0)));
  CHECK(rig.fs.exists(record_at(0)));
  CHECK(!rig.fs.exists(photo_at(1)));  // the next oldest went instead
  CHECK(rig.queue->dropped() > 0);
  rig.queue->clear_in_flight();
  CHECK(rig.capture());
  CHECK(!rig.fs.exists(photo_at(0)));
}

// The uploader's photo stays protected between its steps, e.g. while it backs off after a
// PUT that failed with a network error.
TEST(eviction_spares_the_photo_whose_upload_is_in_progress) {
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 8; ++i) CHECK(rig.capture());
  rig.backend.storage.refuse_connects = 1;
  CHECK(rig.uploader->step() == StepResult::Progress);
  CHECK_EQ(rig.events.count("retry"), 1u);
  CHECK_EQ(rig.events.events.back().seq, 0u);
  CHECK_STR(rig.events.events.back().step, "put");
  for (int i = 0; i < 10; ++i) CHECK(rig.capture());
  CHECK(rig.queue->dropped() > 0);
  CHECK(rig.fs.exists(photo_at(0)));
  CHECK(rig.fs.exists(record_at(0)));
  CHECK(!rig.fs.exists(photo_at(1)));  // the next oldest went instead
  // The retry finishes seq 0; the window's photos evicted meanwhile leave it quietly (they
  // were counted as dropped), neither retried as unreadable nor quarantined.
  CHECK(rig.drain() == StepResult::Idle);
  CHECK_EQ(rig.backend.ingested.count(0), 1u);
  CHECK_EQ(rig.backend.ingested.count(1), 0u);
  CHECK_EQ(rig.events.count("retry"), 1u);
  CHECK_EQ(rig.events.count("read_retry"), 0u);
  CHECK_EQ(rig.events.count("quarantined"), 0u);
  CHECK_EQ(rig.queue->failed_count(), 0u);
}

// A photo the uploader quarantined is no longer its photo: eviction may take it.
TEST(eviction_may_take_a_photo_the_uploader_quarantined) {
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 8; ++i) CHECK(rig.capture());
  FakeReply conflict{http_reply(409, "{\"error\":{\"code\":\"seq_conflict\"}}"), false};
  rig.backend.overrides.push_back({"ingest", conflict});
  for (int i = 0; i < 20 && rig.events.count("quarantined") == 0; ++i) rig.uploader->step();
  CHECK_EQ(rig.events.count("quarantined"), 1u);
  CHECK_EQ(rig.events.events.back().seq, 7u);  // the window's last Ingested event...
  CHECK_EQ(rig.backend.ingested.count(0), 0u);  // ...while seq 0, the batch's first item, was refused
  CHECK(rig.fs.exists(failed_at(0)));
  for (int i = 0; i < 12; ++i) CHECK(rig.capture());  // the card fills again
  CHECK(rig.queue->dropped() > 0);
  CHECK(!rig.fs.exists(failed_at(0)));
  CHECK(!rig.fs.exists(photo_at(0)));
}

// Evictions walk the oldest-first cache and refill it past its 16 entries: still strictly
// oldest-first, and the photo in flight stays.
TEST(eviction_past_the_cache_stays_oldest_first) {
  Rig rig(1000000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 40; ++i) CHECK(rig.capture());
  rig.queue->set_in_flight(0);
  uint32_t seq;
  CHECK(rig.queue->peek_oldest(&seq));
  rig.fs.capacity = (rig.fs.capacity - rig.fs.free_bytes()) + 12000 - 110000;  // ~21 photos too many
  CHECK(rig.capture());
  uint32_t dropped = rig.queue->dropped();
  CHECK(dropped > 16u);
  CHECK(rig.fs.exists(record_at(0)));
  for (uint32_t s = 1; s <= 40; ++s) {
    char path[64];
    CHECK(manifest_path(s, path, sizeof(path)));
    CHECK_EQ(rig.fs.exists(path), s > dropped);
  }
  CHECK_EQ(rig.queue->pending_count(), 41u - dropped);
  for (uint32_t expect : {0u, dropped + 1, dropped + 2}) {
    CHECK(rig.queue->peek_oldest(&seq));
    CHECK_EQ(seq, expect);
    CHECK(rig.queue->complete(seq));
  }
}

TEST(frame_count_resumes_from_the_newest_record) {
  Rig rig;
  CHECK_EQ(rig.queue->resume_frame_count(5), 5u);  // empty card: the counter stands
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());  // frames 0..2
  CHECK_EQ(rig.queue->resume_frame_count(0), 3u);   // the counter was not saved in time
  CHECK_EQ(rig.queue->resume_frame_count(10), 10u);
}

TEST(eviction_takes_quarantined_records_first) {
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 8; ++i) CHECK(rig.capture());
  ManifestRecord rec;
  CHECK(rig.queue->load(5, &rec));
  CHECK(rig.queue->quarantine(rec, "test"));
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  CHECK(!rig.fs.exists(failed_at(5)));
  CHECK(!rig.fs.exists(photo_at(5)));
}

TEST(begin_removes_orphans_and_resolves_double_quarantine) {
  Rig rig;
  for (int i = 0; i < 3; ++i) CHECK(rig.capture());
  rig.fs.files[photo_at(99)] = {1, 2, 3};  // photo whose record never got written
  ManifestRecord rec;
  CHECK(rig.queue->load(1, &rec));
  rec.state = RecordState::Failed;
  char buf[kManifestMaxBytes];
  size_t n = manifest_to_json(rec, buf, sizeof(buf));
  add_bucket_dirs(rig.fs, kFailedDir, 1);
  rig.fs.files[failed_at(1)] = std::vector<uint8_t>(buf, buf + n);  // cut mid-quarantine
  SeqAllocator seqs(rig.kv);
  CaptureQueue q(rig.fs, rig.kv, seqs, rig.qcfg);
  CHECK(q.begin());
  CHECK(!rig.fs.exists(photo_at(99)));
  CHECK(!rig.fs.exists(record_at(1)));
  CHECK(rig.fs.exists(photo_at(1)));
  CHECK_EQ(q.pending_count(), 2u);
  CHECK_EQ(q.failed_count(), 1u);
  uint32_t frame = 0;
  CHECK(q.newest_frame(&frame));
  CHECK_EQ(frame, 2u);
}

TEST(failed_camera_leaves_nothing_behind) {
  Rig rig;
  rig.camera.fail = true;
  ManifestRecord rec;
  CHECK(rig.queue->capture(rig.camera, 0, CaptureStamp(), &rec) == CaptureStatus::CameraFailed);
  CHECK_EQ(rig.queue->pending_count(), 0u);
  for (const auto& f : rig.fs.files) CHECK(f.first.compare(0, 7, "/queue/") != 0);
}

// NVS lost seq_limit (reflash, card moved to another device): seqs must still not restart at 0
// and overwrite what is queued on the card.
TEST(seq_stays_above_the_card_when_nvs_forgets_it) {
  Rig rig;
  for (int i = 0; i < 4; ++i) CHECK(rig.capture());
  ManifestRecord rec;
  CHECK(rig.queue->load(3, &rec));
  CHECK(rig.queue->quarantine(rec, "test"));  // the newest seq now lives in /failed
  std::map<std::string, std::vector<uint8_t>> before = rig.fs.files;
  MemKv wiped;
  SeqAllocator seqs(wiped);
  CaptureQueue q(rig.fs, wiped, seqs, rig.qcfg);
  CHECK(seqs.begin());
  CHECK(q.begin());
  uint32_t stored = 0;
  CHECK(wiped.get_u32(SeqAllocator::kKey, &stored));  // persisted before any seq above is used
  CHECK(stored > 3);
  CHECK(q.capture(rig.camera, 99, CaptureStamp(), &rec) == CaptureStatus::Ok);
  CHECK(rec.seq > 3);
  for (const auto& f : before) CHECK(rig.fs.files[f.first] == f.second);
}

TEST(capture_never_overwrites_a_photo_on_the_card) {
  Rig rig;
  rig.fs.files[photo_at(0)] = {1, 2, 3};  // appeared after begin(), e.g. a swapped card
  ManifestRecord rec;
  CHECK(rig.queue->capture(rig.camera, 0, CaptureStamp(), &rec) == CaptureStatus::CardFailed);
  CHECK(rig.fs.files[photo_at(0)] == std::vector<uint8_t>({1, 2, 3}));
  CHECK(rig.capture(&rec));
  CHECK_EQ(rec.seq, 1u);
}

// A card that will not delete files must not hang boot. begin() returns true: the queue is
// usable and the leftovers are settled again at the next begin().
TEST(begin_terminates_when_card_cannot_remove_files) {
  Rig rig;
  for (int i = 0; i < 21; ++i) CHECK(rig.capture());
  for (int i = 0; i < 20; ++i) {  // stale tmps beside valid records: recovery removes each tmp
    char m[64];
    manifest_path(uint32_t(i), m, sizeof(m));
    rig.fs.files[tmp_at(m)] = rig.fs.files[m];
  }
  // A cut between removing the record and renaming its tmp: this one only needs a rename.
  rig.fs.files[tmp_at(record_at(20))] = rig.fs.files[record_at(20)];
  rig.fs.files.erase(record_at(20));
  rig.fs.removes_fail = true;
  rig.fs.budget = 5000;  // a loop that never settles runs into this cut instead of spinning forever
  SeqAllocator seqs(rig.kv);
  CaptureQueue q(rig.fs, rig.kv, seqs, rig.qcfg);
  CHECK(q.begin());
  CHECK(!rig.fs.crashed);
  CHECK(rig.fs.exists(record_at(20)));  // not starved by the stuck ones
  CHECK_EQ(q.pending_count(), 21u);
}

// The photo being uploaded when the camera rebooted is still protected after it: the first
// eviction of the new boot takes the next oldest instead.
TEST(in_flight_protection_survives_a_reboot) {
  Rig rig(60000, 12000);
  rig.camera.size = 5000;
  for (int i = 0; i < 8; ++i) CHECK(rig.capture());
  rig.queue->set_in_flight(0);
  rig.fs.reboot();
  SeqAllocator seqs(rig.kv);
  CaptureQueue q(rig.fs, rig.kv, seqs, rig.qcfg);
  CHECK(seqs.begin());
  CHECK(q.begin());
  CHECK_EQ(q.in_flight(), 0u);
  for (int i = 0; i < 6; ++i) CHECK(q.capture(rig.camera, 100 + uint32_t(i), CaptureStamp(), nullptr) == CaptureStatus::Ok);
  CHECK(q.dropped() > 0);
  CHECK(rig.fs.exists(photo_at(0)));
  CHECK(rig.fs.exists(record_at(0)));
  CHECK(!rig.fs.exists(photo_at(1)));
}

// A photo larger than min_free_bytes on a full card: reported as CardFull (not a camera
// failure), and the next capture makes enough room instead of failing the same way forever.
TEST(photo_larger_than_min_free_is_a_card_condition_then_fits) {
  Rig rig(175000, 12000);  // 30 photos leave ~16 KB free
  rig.camera.size = 5000;
  for (int i = 0; i < 30; ++i) CHECK(rig.capture());
  rig.camera.size = 40000;  // bigger than the 12000 kept free
  ManifestRecord rec;
  CaptureStatus first = rig.queue->capture(rig.camera, 99, CaptureStamp(), &rec);
  CHECK(first == CaptureStatus::CardFull);
  uint32_t failures = 0;
  for (int i = 0; i < 5; ++i) {
    if (rig.queue->capture(rig.camera, 100 + uint32_t(i), CaptureStamp(), &rec) != CaptureStatus::Ok) ++failures;
  }
  CHECK_EQ(failures, 0u);
  CHECK(rig.queue->dropped() > 0);
  CHECK_STR(capture_status_name(first), "card_full");
}

// Draining across a bucket boundary (records, photos, then the emptied bucket folder go) with a
// power cut at every metadata operation: afterwards the queue is exactly the photos not yet
// completed (or one fewer), each intact, with no orphan photo left in a bucket once used.
TEST(drain_across_buckets_survives_a_cut_at_every_operation) {
  Rig base;
  base.camera.size = 300;
  const uint32_t total = kBucketSeqs + 6;
  for (uint32_t i = 0; i < total; ++i) CHECK(base.capture());
  bool completed = false;
  size_t landed = 0;
  for (int64_t k = 0; !completed && k < 5000; ++k) {
    MemFs fs = base.fs;
    MemKv kv = base.kv;
    {
      SeqAllocator seqs(kv);
      CaptureQueue q(fs, kv, seqs, base.qcfg);
      CHECK(seqs.begin());
      CHECK(q.begin());
      fs.budget = k;
      uint32_t seq;
      uint32_t done = 0;
      while (done < total - 2 && q.peek_oldest(&seq) && q.complete(seq)) ++done;
      completed = !fs.crashed;
      landed += fs.crashed;
    }
    fs.reboot();
    SeqAllocator seqs(kv);
    CaptureQueue q(fs, kv, seqs, base.qcfg);
    CHECK(seqs.begin());
    CHECK(q.begin());
    uint32_t oldest;
    CHECK(q.peek_oldest(&oldest));
    CHECK(oldest <= total - 2);
    for (uint32_t s = oldest; s < total; ++s) {  // everything from the oldest on is intact
      ManifestRecord rec;
      CHECK(q.load(s, &rec));
      CHECK(fs.exists(photo_at(s)));
    }
    for (uint32_t s = 0; s < oldest; ++s) CHECK(!fs.exists(record_at(s)));
    for (uint32_t s = (oldest >> kBucketShift) << kBucketShift; s < oldest; ++s) CHECK(!fs.exists(photo_at(s)));
  }
  CHECK(completed);
  CHECK(landed > total);  // two removals a photo, plus the folder: the cut landed all along
}
