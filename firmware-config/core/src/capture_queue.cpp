#include "lifelog/capture_queue.h"

#include <cstdio>
#include <cstring>

#include "lifelog/atomic_file.h"

namespace lifelog {
namespace {

bool format_path(char* out, size_t cap, const char* dir, uint32_t seq, const char* ext) {
  int n = snprintf(out, cap, "%s/%010lu%s", dir, static_cast<unsigned long>(seq), ext);
  return n > 0 && size_t(n) < cap;
}

// Collects the smallest record seqs in a folder, ascending, without allocating.
class SmallestSeqs : public DirVisitor {
 public:
  SmallestSeqs(uint32_t* out, size_t cap, const char* ext, uint32_t after, uint32_t skip)
      : out_(out), cap_(cap), ext_(ext), after_(after), skip_(skip) {}
  bool on_entry(const char* name) override {
    uint32_t seq;
    if (!parse_record_name(name, ext_, &seq)) return true;
    if ((after_ != kNoSeq && seq <= after_) || seq == skip_) return true;
    ++seen_;
    size_t pos = len_;
    while (pos > 0 && out_[pos - 1] > seq) --pos;
    if (pos >= cap_) return true;
    size_t last = (len_ < cap_) ? len_ : cap_ - 1;
    for (size_t i = last; i > pos; --i) out_[i] = out_[i - 1];
    out_[pos] = seq;
    if (len_ < cap_) ++len_;
    return true;
  }
  size_t len() const { return len_; }
  size_t seen() const { return seen_; }

 private:
  uint32_t* out_;
  size_t cap_;
  const char* ext_;
  uint32_t after_;
  uint32_t skip_;
  size_t len_ = 0;
  size_t seen_ = 0;
};

class LargestSeq : public DirVisitor {
 public:
  explicit LargestSeq(const char* ext) : ext_(ext) {}
  bool on_entry(const char* name) override {
    uint32_t seq;
    if (parse_record_name(name, ext_, &seq) && (!found || seq > best)) {
      best = seq;
      found = true;
    }
    return true;
  }
  uint32_t best = 0;
  bool found = false;

 private:
  const char* ext_;
};

class CountRecords : public DirVisitor {
 public:
  explicit CountRecords(const char* ext) : ext_(ext) {}
  bool on_entry(const char* name) override {
    uint32_t seq;
    if (parse_record_name(name, ext_, &seq)) ++count;
    return true;
  }
  uint32_t count = 0;

 private:
  const char* ext_;
};

class HashingFileSink : public FrameSink {
 public:
  HashingFileSink(FileSystem& fs, int fd) : fs_(fs), fd_(fd) {}
  bool write(const uint8_t* data, size_t len) override {
    hash.update(data, len);
    while (len > 0) {
      int32_t n = fs_.write(fd_, data, len);
      if (n <= 0) return false;
      data += n;
      len -= size_t(n);
      size += uint64_t(n);
    }
    return true;
  }
  Sha256 hash;
  uint64_t size = 0;

 private:
  FileSystem& fs_;
  int fd_;
};

void copy_reason(char* dst, size_t cap, const char* src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

}  // namespace

bool photo_path(uint32_t seq, char* out, size_t cap) { return format_path(out, cap, kQueueDir, seq, ".jpg"); }
bool manifest_path(uint32_t seq, char* out, size_t cap) {
  return format_path(out, cap, kManifestDir, seq, ".json");
}
bool failed_path(uint32_t seq, char* out, size_t cap) { return format_path(out, cap, kFailedDir, seq, ".json"); }

bool parse_record_name(const char* name, const char* ext, uint32_t* seq) {
  size_t ext_len = strlen(ext);
  if (strlen(name) != 10 + ext_len || strcmp(name + 10, ext) != 0) return false;
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + uint64_t(name[i] - '0');
  }
  if (v >= kNoSeq) return false;
  *seq = uint32_t(v);
  return true;
}

void CaptureQueue::recover_tmp_files(const char* dir) {
  // Walks by seq (a folder is not edited while listed), so a tmp the card refuses to remove
  // is passed over once instead of being listed again forever.
  char target[kMaxPathLen];
  for (uint32_t after = kNoSeq;;) {
    uint32_t batch[kOldestCache];
    SmallestSeqs tmps(batch, kOldestCache, ".json.tmp", after, kNoSeq);
    fs_.list_dir(dir, tmps);
    for (size_t i = 0; i < tmps.len(); ++i) {
      if (!format_path(target, sizeof(target), dir, batch[i], ".json")) continue;
      recover_file(fs_, target, manifest_text_valid, scratch_, sizeof(scratch_));
    }
    if (tmps.len() < kOldestCache) return;
    after = batch[tmps.len() - 1];
  }
}

uint32_t CaptureQueue::remove_orphan_photos() {
  // A record may sit in /failed and /manifests at once after a cut mid-quarantine; keep the failed one.
  class Orphans : public DirVisitor {
   public:
    explicit Orphans(FileSystem& fs) : fs_(fs) {}
    bool on_entry(const char* name) override {
      uint32_t seq;
      if (!parse_record_name(name, ".jpg", &seq)) return true;
      char path[kMaxPathLen];
      bool kept = (manifest_path(seq, path, sizeof(path)) && fs_.exists(path)) ||
                  (failed_path(seq, path, sizeof(path)) && fs_.exists(path));
      if (kept) return true;
      snprintf(doomed[count], sizeof(doomed[0]), "%s/%s", kQueueDir, name);
      return ++count < 8;
    }
    char doomed[8][40];
    size_t count = 0;

   private:
    FileSystem& fs_;
  };
  uint32_t removed = 0;
  for (;;) {
    Orphans orphans(fs_);
    fs_.list_dir(kQueueDir, orphans);
    size_t done = 0;
    for (size_t i = 0; i < orphans.count; ++i) {
      if (fs_.remove(orphans.doomed[i])) ++done;
    }
    removed += uint32_t(done);
    if (orphans.count < 8 || done == 0) return removed;
  }
}

bool CaptureQueue::begin() {
  if (!fs_.make_dir(kQueueDir) || !fs_.make_dir(kManifestDir) || !fs_.make_dir(kFailedDir)) return false;
  if (!kv_.get_u32(kDroppedKey, &dropped_)) dropped_ = 0;
  recover_tmp_files(kManifestDir);
  recover_tmp_files(kFailedDir);
  // A cut during quarantine can leave the record in both folders: the failed copy is complete.
  for (uint32_t after = kNoSeq;;) {
    uint32_t batch[kOldestCache];
    SmallestSeqs failed(batch, kOldestCache, ".json", after, kNoSeq);
    fs_.list_dir(kFailedDir, failed);
    char path[kMaxPathLen];
    for (size_t i = 0; i < failed.len(); ++i) {
      if (manifest_path(batch[i], path, sizeof(path)) && fs_.exists(path)) fs_.remove(path);
    }
    if (failed.len() < kOldestCache) break;
    after = batch[failed.len() - 1];
  }
  // Seqs must never repeat, even if NVS lost its limit: stay above every seq on the card,
  // orphan photos included (one may be a record the server already has).
  uint32_t largest = 0;
  bool any = false;
  const char* dirs[3] = {kQueueDir, kManifestDir, kFailedDir};
  for (const char* dir : dirs) {
    LargestSeq in_dir(dir == kQueueDir ? ".jpg" : ".json");
    if (!fs_.list_dir(dir, in_dir)) return false;
    if (in_dir.found && (!any || in_dir.best > largest)) largest = in_dir.best;
    any = any || in_dir.found;
  }
  if (any && !seqs_.ensure_above(largest)) return false;
  remove_orphan_photos();
  oldest_valid_ = false;
  return true;
}

CaptureStatus CaptureQueue::capture(Camera& camera, uint32_t frame, const CaptureStamp& stamp,
                                    ManifestRecord* out) {
  make_room();
  uint32_t seq;
  if (!seqs_.next(&seq)) return CaptureStatus::NoSeq;
  char photo[kMaxPathLen];
  char manifest[kMaxPathLen];
  if (!photo_path(seq, photo, sizeof(photo)) || !manifest_path(seq, manifest, sizeof(manifest))) {
    return CaptureStatus::CardFailed;
  }
  // Never clobber a record already on the card (begin() keeps seqs above them; this is the backstop).
  if (fs_.exists(photo) || fs_.exists(manifest)) return CaptureStatus::CardFailed;
  ManifestRecord rec;
  rec.seq = seq;
  rec.frame = frame;
  rec.stamp = stamp;
  {
    ScopedFile file(fs_, photo, OpenMode::Write);
    if (!file.ok()) return CaptureStatus::CardFailed;
    HashingFileSink sink(fs_, file.fd());
    bool shot = camera.capture(frame, sink);
    bool stored = fs_.flush(file.fd());
    if (!file.close()) stored = false;
    if (!shot || !stored || sink.size == 0) {
      fs_.remove(photo);
      return shot ? CaptureStatus::CardFailed : CaptureStatus::CameraFailed;
    }
    rec.size = sink.size;
    sink.hash.finish_hex(rec.sha256);
  }
  size_t len = manifest_to_json(rec, scratch_, sizeof(scratch_));
  if (len == 0 || !write_file_replacing(fs_, manifest, scratch_, len)) {
    fs_.remove(manifest);
    fs_.remove(photo);
    return CaptureStatus::CardFailed;
  }
  if (oldest_valid_ && oldest_complete_) {
    if (oldest_len_ < kOldestCache) {
      oldest_[oldest_len_++] = seq;
    } else {
      oldest_complete_ = false;  // the cache is full: this one is only found by the next listing
    }
  }
  if (out) *out = rec;
  return CaptureStatus::Ok;
}

bool CaptureQueue::refill_cache() {
  SmallestSeqs smallest(oldest_, kOldestCache, ".json", kNoSeq, kNoSeq);
  if (!fs_.list_dir(kManifestDir, smallest)) return false;
  oldest_len_ = smallest.len();
  oldest_pos_ = 0;
  oldest_complete_ = smallest.seen() <= kOldestCache;
  oldest_valid_ = true;
  return true;
}

bool CaptureQueue::peek_oldest(uint32_t* seq) {
  if (!oldest_valid_ || oldest_pos_ >= oldest_len_) {
    if (!refill_cache()) return false;
  }
  if (oldest_pos_ >= oldest_len_) return false;
  *seq = oldest_[oldest_pos_];
  return true;
}

bool CaptureQueue::peek_after(uint32_t after, uint32_t* seq) {
  if (!oldest_valid_ || oldest_pos_ >= oldest_len_) {
    if (!refill_cache()) return false;
  }
  for (size_t i = oldest_pos_; i < oldest_len_; ++i) {
    if (oldest_[i] > after) {
      *seq = oldest_[i];
      return true;
    }
  }
  if (oldest_complete_) return false;
  uint32_t next;
  SmallestSeqs smallest(&next, 1, ".json", after, kNoSeq);
  if (!fs_.list_dir(kManifestDir, smallest) || smallest.len() == 0) return false;
  *seq = next;
  return true;
}

void CaptureQueue::forget_cached(uint32_t seq) {
  if (!oldest_valid_) return;
  for (size_t i = oldest_pos_; i < oldest_len_; ++i) {
    if (oldest_[i] != seq) continue;
    // Close the gap from the front so the rest keeps its order.
    for (; i > oldest_pos_; --i) oldest_[i] = oldest_[i - 1];
    ++oldest_pos_;
    return;
  }
  oldest_valid_ = false;
}

LoadStatus CaptureQueue::load_record(uint32_t seq, ManifestRecord* out) {
  char path[kMaxPathLen];
  size_t len = 0;
  if (!manifest_path(seq, path, sizeof(path))) return LoadStatus::Corrupt;
  ReadStatus read = read_small_file(fs_, path, scratch_, sizeof(scratch_), &len);
  if (read == ReadStatus::TooLarge) return LoadStatus::Corrupt;  // no record is that big
  if (read != ReadStatus::Ok) {
    oldest_valid_ = false;  // list again next time: a record that really vanished drops out
    return LoadStatus::IoError;
  }
  return manifest_from_json(scratch_, len, out) && out->seq == seq ? LoadStatus::Ok : LoadStatus::Corrupt;
}

bool CaptureQueue::save(const ManifestRecord& rec) {
  char path[kMaxPathLen];
  if (!manifest_path(rec.seq, path, sizeof(path))) return false;
  size_t len = manifest_to_json(rec, scratch_, sizeof(scratch_));
  return len > 0 && write_file_replacing(fs_, path, scratch_, len);
}

bool CaptureQueue::remove_record(const char* manifest, uint32_t seq) {
  char photo[kMaxPathLen];
  if (!photo_path(seq, photo, sizeof(photo))) return false;
  // Record first: a cut in between leaves an orphan photo, which begin() sweeps up.
  if (fs_.exists(manifest) && !fs_.remove(manifest)) return false;
  if (fs_.exists(photo)) fs_.remove(photo);
  return true;
}

bool CaptureQueue::complete(uint32_t seq) {
  char manifest[kMaxPathLen];
  if (!manifest_path(seq, manifest, sizeof(manifest))) return false;
  forget_cached(seq);
  return remove_record(manifest, seq);
}

bool CaptureQueue::quarantine(ManifestRecord& rec, const char* reason) {
  char failed[kMaxPathLen];
  char manifest[kMaxPathLen];
  if (!failed_path(rec.seq, failed, sizeof(failed)) || !manifest_path(rec.seq, manifest, sizeof(manifest))) {
    return false;
  }
  rec.state = RecordState::Failed;
  copy_reason(rec.reason, sizeof(rec.reason), reason);
  size_t len = manifest_to_json(rec, scratch_, sizeof(scratch_));
  if (len == 0 || !write_file_replacing(fs_, failed, scratch_, len)) return false;
  forget_cached(rec.seq);
  return fs_.remove(manifest);
}

bool CaptureQueue::discard_unreadable(uint32_t seq) {
  char manifest[kMaxPathLen];
  if (!manifest_path(seq, manifest, sizeof(manifest))) return false;
  forget_cached(seq);
  if (!remove_record(manifest, seq)) return false;
  count_dropped();
  return true;
}

void CaptureQueue::count_dropped() {
  ++dropped_;
  kv_.put_u32(kDroppedKey, dropped_);
}

// The oldest queued record other than the one in flight, taken from the oldest-first cache.
bool CaptureQueue::oldest_evictable(uint32_t* seq) {
  // Only the in-flight one left in a cache that did not hold every record: list again.
  bool only_in_flight = oldest_valid_ && oldest_pos_ + 1 == oldest_len_ && oldest_[oldest_pos_] == in_flight_;
  if (!oldest_valid_ || oldest_pos_ >= oldest_len_ || (only_in_flight && !oldest_complete_)) {
    if (!refill_cache()) return false;
  }
  for (size_t i = oldest_pos_; i < oldest_len_; ++i) {
    if (oldest_[i] == in_flight_) continue;
    *seq = oldest_[i];
    return true;
  }
  return false;
}

bool CaptureQueue::evict_one() {
  uint32_t victim;
  char manifest[kMaxPathLen];
  SmallestSeqs failed(&victim, 1, ".json", kNoSeq, in_flight_);
  fs_.list_dir(kFailedDir, failed);
  if (failed.len() == 1) {
    if (!failed_path(victim, manifest, sizeof(manifest))) return false;
  } else {
    if (!oldest_evictable(&victim)) return false;
    if (!manifest_path(victim, manifest, sizeof(manifest))) return false;
    forget_cached(victim);
  }
  if (!remove_record(manifest, victim)) return false;
  count_dropped();
  return true;
}

uint32_t CaptureQueue::make_room() {
  uint32_t evicted = 0;
  while (fs_.free_bytes() < cfg_.min_free_bytes && evict_one()) ++evicted;
  return evicted;
}

uint32_t CaptureQueue::count_records(const char* dir) {
  CountRecords count(".json");
  fs_.list_dir(dir, count);
  return count.count;
}

bool CaptureQueue::newest_frame(uint32_t* frame) {
  // Frames and seqs grow together, so the newest record carries the highest frame.
  bool found = false;
  const char* dirs[2] = {kManifestDir, kFailedDir};
  for (const char* dir : dirs) {
    LargestSeq largest(".json");
    fs_.list_dir(dir, largest);
    if (!largest.found) continue;
    char path[kMaxPathLen];
    size_t len = 0;
    ManifestRecord rec;
    if (!format_path(path, sizeof(path), dir, largest.best, ".json")) continue;
    if (read_small_file(fs_, path, scratch_, sizeof(scratch_), &len) != ReadStatus::Ok) continue;
    if (!manifest_from_json(scratch_, len, &rec)) continue;
    if (!found || rec.frame > *frame) *frame = rec.frame;
    found = true;
  }
  return found;
}

uint32_t CaptureQueue::resume_frame_count(uint32_t counted) {
  uint32_t newest = 0;
  return newest_frame(&newest) && newest + 1 > counted ? newest + 1 : counted;
}

uint32_t CaptureQueue::apply_time_correction(const ClockReading& now) {
  if (!now.synced) return 0;
  uint32_t fixed = 0;
  for (uint32_t after = kNoSeq;;) {
    uint32_t batch[kOldestCache];
    SmallestSeqs page(batch, kOldestCache, ".json", after, kNoSeq);
    fs_.list_dir(kManifestDir, page);
    for (size_t i = 0; i < page.len(); ++i) {
      ManifestRecord rec;
      if (!load(batch[i], &rec)) continue;
      CaptureStamp better = resolve_capture_time(rec.stamp, now);
      if (better.time_corrected == rec.stamp.time_corrected) continue;
      rec.stamp = better;
      if (save(rec)) ++fixed;
    }
    if (page.len() < kOldestCache) return fixed;
    after = batch[page.len() - 1];
  }
}

bool CaptureQueue::correct_times_after_sync(Clock& clock, uint32_t boot_id, uint32_t* fixed) {
  if (times_corrected_ || !clock.wall_synced()) return false;
  times_corrected_ = true;
  *fixed = apply_time_correction(read_clock(clock, boot_id));
  return true;
}

}  // namespace lifelog
