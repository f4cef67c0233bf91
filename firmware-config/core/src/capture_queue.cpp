#include "lifelog/capture_queue.h"

#include <cstdio>
#include <cstring>

#include "lifelog/atomic_file.h"

namespace lifelog {
namespace {

const char* const kRoots[2] = {kQueueDir, kFailedDir};

uint32_t bucket_of(uint32_t seq) { return seq >> kBucketShift; }
uint32_t group_of(uint32_t bucket) { return bucket >> kGroupShift; }

bool seq_path(char* out, size_t cap, const char* root, uint32_t seq, const char* ext) {
  uint32_t b = bucket_of(seq);
  int n = snprintf(out, cap, "%s/%05lx/%06lx/%08lx%s", root, static_cast<unsigned long>(group_of(b)),
                   static_cast<unsigned long>(b), static_cast<unsigned long>(seq), ext);
  return n > 0 && size_t(n) < cap;
}

bool group_path(const char* root, uint32_t group, char* out, size_t cap) {
  int n = snprintf(out, cap, "%s/%05lx", root, static_cast<unsigned long>(group));
  return n > 0 && size_t(n) < cap;
}

bool hex_value(const char* s, size_t digits, uint32_t* out) {
  uint32_t v = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[i];
    uint32_t d;
    if (c >= '0' && c <= '9') d = uint32_t(c - '0');
    else if (c >= 'a' && c <= 'f') d = uint32_t(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') d = uint32_t(c - 'A' + 10);  // FAT matches names in any case
    else return false;
    v = (v << 4) | d;
  }
  *out = v;
  return true;
}

bool same_ext(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b) {
    char x = (*a >= 'A' && *a <= 'Z') ? char(*a + 32) : *a;
    if (x != *b) return false;
  }
  return *a == *b;
}

class HashingFileSink : public FrameSink {
 public:
  HashingFileSink(FileSystem& fs, int fd) : fs_(fs), fd_(fd) {}
  bool write(const uint8_t* data, size_t len) override {
    hash.update(data, len);
    while (len > 0) {
      int32_t n = fs_.write(fd_, data, len);
      if (n <= 0) {
        write_failed = true;
        return false;
      }
      data += n;
      len -= size_t(n);
      size += uint64_t(n);
    }
    return true;
  }
  Sha256 hash;
  uint64_t size = 0;
  bool write_failed = false;

 private:
  FileSystem& fs_;
  int fd_;
};

class BucketLister : public DirVisitor {
 public:
  explicit BucketLister(BucketView& v) : v_(v) {}
  bool on_entry(const char* name, bool is_dir) override {
    uint32_t seq;
    CardName kind;
    if (is_dir || !parse_card_name(name, &seq, &kind) || bucket_of(seq) != v_.id) return true;
    uint32_t* set = kind == CardName::Photo ? v_.photos : kind == CardName::Record ? v_.records : v_.tmps;
    BucketView::put(set, seq, true);
    if (v_.largest_seen == kNoSeq || seq > v_.largest_seen) v_.largest_seen = seq;
    return true;
  }

 private:
  BucketView& v_;
};

// Among a folder's entries named with `digits` hex digits: the smallest id above `after`
// (or the largest below it); with `inclusive`, `after` itself counts too.
class IdFinder : public DirVisitor {
 public:
  IdFinder(size_t digits, bool largest, uint32_t after, bool inclusive)
      : digits_(digits), largest_(largest), after_(after), inclusive_(inclusive) {}
  bool on_entry(const char* name, bool is_dir) override {
    uint32_t id;
    if (!is_dir || strlen(name) != digits_ || !hex_value(name, digits_, &id)) return true;
    ++seen;
    if (after_ != kNoBucket && !(inclusive_ && id == after_) && (largest_ ? id >= after_ : id <= after_)) return true;
    if (found == kNoBucket || (largest_ ? id > found : id < found)) found = id;
    return true;
  }
  uint32_t found = kNoBucket;
  uint32_t seen = 0;

 private:
  size_t digits_;
  bool largest_;
  uint32_t after_;
  bool inclusive_;
};

void copy_reason(char* dst, size_t cap, const char* src) { snprintf(dst, cap, "%s", src ? src : ""); }

}  // namespace

uint32_t BucketView::count(const uint32_t* set) const {
  uint32_t n = 0;
  for (size_t i = 0; i < kWords; ++i) {
    for (uint32_t w = set[i]; w; w &= w - 1) ++n;
  }
  return n;
}

bool BucketView::first(const uint32_t* set, uint32_t from, uint32_t skip, uint32_t* seq) const {
  uint32_t base = id << kBucketShift;
  for (uint32_t i = (from > base ? from - base : 0); i < kBucketSeqs; ++i) {
    uint32_t s = base + i;
    if (s != skip && has(set, s)) {
      *seq = s;
      return true;
    }
  }
  return false;
}

bool BucketView::last(const uint32_t* set, uint32_t* seq) const {
  for (uint32_t i = kBucketSeqs; i-- > 0;) {
    uint32_t s = (id << kBucketShift) + i;
    if (has(set, s)) {
      *seq = s;
      return true;
    }
  }
  return false;
}

bool photo_path(uint32_t seq, char* out, size_t cap) { return seq_path(out, cap, kQueueDir, seq, ".jpg"); }
bool manifest_path(uint32_t seq, char* out, size_t cap) { return seq_path(out, cap, kQueueDir, seq, ".jsn"); }
bool failed_path(uint32_t seq, char* out, size_t cap) { return seq_path(out, cap, kFailedDir, seq, ".jsn"); }
bool bucket_path(const char* root, uint32_t bucket, char* out, size_t cap) {
  int n = snprintf(out, cap, "%s/%05lx/%06lx", root, static_cast<unsigned long>(group_of(bucket)),
                   static_cast<unsigned long>(bucket));
  return n > 0 && size_t(n) < cap;
}

bool parse_card_name(const char* name, uint32_t* seq, CardName* kind) {
  if (strlen(name) != 12 || name[8] != '.' || !hex_value(name, 8, seq) || *seq == kNoSeq) return false;
  const char* ext = name + 9;
  if (same_ext(ext, "jpg")) *kind = CardName::Photo;
  else if (same_ext(ext, "jsn")) *kind = CardName::Record;
  else if (same_ext(ext, "tmp")) *kind = CardName::Tmp;
  else return false;
  return true;
}


const char* capture_status_name(CaptureStatus s) {
  switch (s) {
    case CaptureStatus::Ok: return "ok";
    case CaptureStatus::NoSeq: return "no_seq";
    case CaptureStatus::CameraFailed: return "camera_failed";
    case CaptureStatus::CardFailed: return "card_failed";
    case CaptureStatus::CardFull: return "card_full";
  }
  return "unknown";
}

// ---- bucket views -------------------------------------------------------------------------

BucketView* CaptureQueue::cached(uint8_t root, uint32_t bucket) {
  for (BucketView& v : views_) {
    if (v.valid() && v.root == root && v.id == bucket) return &v;
  }
  return nullptr;
}

bool CaptureQueue::list_bucket(uint8_t root, uint32_t bucket, BucketView* v) {
  *v = BucketView();
  v->root = root;
  v->id = bucket;
  char dir[kMaxPathLen];
  if (!bucket_path(kRoots[root], bucket, dir, sizeof(dir))) return false;
  BucketLister lister(*v);
  fs_.list_dir(dir, lister);  // a missing folder is an empty bucket
  return true;
}

BucketView* CaptureQueue::view(uint8_t root, uint32_t bucket, bool settled) {
  if (BucketView* hit = cached(root, bucket)) {
    hit->used = ++view_clock_;
    return hit;
  }
  // A queue bucket is settled against the failed bucket of the same seqs: list that first.
  if (root == 0) view(1, bucket);
  BucketView* slot = nullptr;
  for (BucketView& v : views_) {
    if (root == 0 && v.valid() && v.root == 1 && v.id == bucket) continue;  // keep its partner
    if (!v.valid()) { slot = &v; break; }
    if (!slot || v.used < slot->used) slot = &v;
  }
  if (!list_bucket(root, bucket, slot)) return nullptr;
  if (settled) settle(slot);
  slot->used = ++view_clock_;
  return slot;
}

// Settles what a power cut may have left in one bucket. The folder was listed first and is
// edited only now; each leftover is tried once per listing, so a card that refuses to
// remove files cannot keep this loop going.
void CaptureQueue::settle(BucketView* v) {
  char path[kMaxPathLen];
  const char* root = kRoots[v->root];
  uint32_t base = v->id << kBucketShift;
  for (uint32_t i = 0; i < kBucketSeqs; ++i) {
    uint32_t seq = base + i;
    if (!BucketView::has(v->tmps, seq)) continue;
    if (!seq_path(path, sizeof(path), root, seq, ".jsn")) continue;
    recover_file(fs_, path, manifest_text_valid, scratch_, sizeof(scratch_));
    BucketView::put(v->records, seq, fs_.exists(path));
    BucketView::put(v->tmps, seq, false);
  }
  if (v->root != 0) return;
  BucketView* failed = cached(1, v->id);
  for (uint32_t i = 0; i < kBucketSeqs; ++i) {
    uint32_t seq = base + i;
    bool in_failed = failed && BucketView::has(failed->records, seq);
    // A cut during quarantine can leave the record in both roots: the failed copy is complete.
    if (in_failed && BucketView::has(v->records, seq) && manifest_path(seq, path, sizeof(path)) &&
        fs_.remove(path)) {
      BucketView::put(v->records, seq, false);
    }
    if (BucketView::has(v->photos, seq) && !BucketView::has(v->records, seq) && !in_failed &&
        photo_path(seq, path, sizeof(path)) && fs_.remove(path)) {
      BucketView::put(v->photos, seq, false);
    }
  }
}

void CaptureQueue::note(uint8_t root, uint32_t seq, CardName kind, bool present) {
  BucketView* v = cached(root, bucket_of(seq));
  if (!v) return;
  BucketView::put(kind == CardName::Photo ? v->photos : kind == CardName::Record ? v->records : v->tmps, seq,
                  present);
}

// Two levels: the root holds group folders (64 buckets each), a group its bucket folders.
bool CaptureQueue::find_bucket(uint8_t root, bool largest, uint32_t after, uint32_t* bucket) {
  uint32_t bound = after == kNoBucket ? kNoBucket : group_of(after);
  for (int guard = 0; guard < 64; ++guard) {
    IdFinder groups(5, largest, bound, true);
    if (!fs_.list_dir(kRoots[root], groups) || groups.found == kNoBucket) return false;
    uint32_t g = groups.found;
    char dir[kMaxPathLen];
    if (!group_path(kRoots[root], g, dir, sizeof(dir))) return false;
    IdFinder buckets(6, largest, after, false);
    fs_.list_dir(dir, buckets);
    if (buckets.found != kNoBucket) {
      *bucket = buckets.found;
      return true;
    }
    // Nothing beyond `after` in this group: an empty group below the capture group goes.
    if (buckets.seen == 0 && g < group_of(bucket_of(seqs_.peek_next()))) fs_.remove_dir(dir);
    if (largest) {
      if (g == 0) return false;
      bound = g - 1;
    } else {
      bound = g + 1;
    }
  }
  return false;
}

bool CaptureQueue::newest_bucket(uint8_t root, uint32_t* bucket) {
  if (!newest_known_[root]) {
    if (!find_bucket(root, true, kNoBucket, &newest_[root])) newest_[root] = kNoBucket;
    newest_known_[root] = true;
  }
  *bucket = newest_[root];
  return newest_[root] != kNoBucket;
}

void CaptureQueue::note_bucket(uint8_t root, uint32_t bucket) {
  if (newest_known_[root] && (newest_[root] == kNoBucket || bucket > newest_[root])) newest_[root] = bucket;
  if (head_known_[root] && (head_[root] == kNoBucket || bucket < head_[root])) head_[root] = bucket;
}

// Removes a bucket folder that holds nothing any more, unless captures still go there.
void CaptureQueue::retire_if_empty(BucketView* v) {
  if (!v->empty() || v->id >= bucket_of(seqs_.peek_next())) return;
  if (v->root == 0) {
    BucketView* failed = cached(1, v->id);
    if (!failed || failed->count(failed->records) != 0) return;  // its photos live here
  }
  char dir[kMaxPathLen];
  if (bucket_path(kRoots[v->root], v->id, dir, sizeof(dir)) && fs_.remove_dir(dir)) {
    if (v->root == 0 && made_bucket_ == v->id) made_bucket_ = kNoBucket;
    if (newest_[v->root] == v->id) newest_known_[v->root] = false;
    if (group_path(kRoots[v->root], group_of(v->id), dir, sizeof(dir)) &&
        group_of(v->id) < group_of(bucket_of(seqs_.peek_next()))) {
      fs_.remove_dir(dir);  // refused while other buckets are in it
    }
    *v = BucketView();
  }
}

// The smallest bucket of a root holding a record, walking on from the last one known.
bool CaptureQueue::head_bucket(uint8_t root, uint32_t* bucket) {
  for (int guard = 0; guard < 64; ++guard) {
    if (!head_known_[root]) {
      head_known_[root] = true;
      if (!find_bucket(root, false, kNoBucket, &head_[root])) head_[root] = kNoBucket;
    }
    if (head_[root] == kNoBucket) return false;
    BucketView* v = view(root, head_[root]);
    if (!v) return false;
    if (v->count(v->records) > 0) {
      *bucket = head_[root];
      return true;
    }
    uint32_t done = head_[root];
    retire_if_empty(v);
    if (!find_bucket(root, false, done, &head_[root])) head_[root] = kNoBucket;
  }
  head_known_[root] = false;  // many empty folders in a row: go on at the next call
  return false;
}

bool CaptureQueue::oldest_record(uint8_t root, uint32_t skip, uint32_t* seq) {
  uint32_t b;
  if (!head_bucket(root, &b)) return false;
  BucketView* v = view(root, b);
  if (v && v->first(v->records, 0, skip, seq)) return true;
  // Only `skip` is left in the head bucket: look in the next one.
  uint32_t next;
  if (!find_bucket(root, false, b, &next)) return false;
  v = view(root, next);
  return v && v->first(v->records, 0, skip, seq);
}

// ---- boot -----------------------------------------------------------------------------------

bool CaptureQueue::begin() {
  if (!fs_.make_dir(kQueueDir) || !fs_.make_dir(kFailedDir)) return false;
  // The first free-space query after a mount scans the whole FAT when the card's FSINFO does
  // not know its free count (about 8,190 sectors on 32 GB): boot pays it, not the first capture.
  fs_.free_bytes();
  if (!kv_.get_u32(kDroppedKey, &dropped_)) dropped_ = 0;
  if (!kv_.get_u32(kInFlightKey, &in_flight_)) in_flight_ = kNoSeq;
  for (BucketView& v : views_) v = BucketView();
  head_known_[0] = head_known_[1] = false;
  newest_known_[0] = newest_known_[1] = false;
  made_bucket_ = kNoBucket;
  unsynced_first_ = unsynced_last_ = kNoSeq;
  times_corrected_ = correcting_ = false;
  uint32_t unused;
  for (uint8_t root = 0; root < 2; ++root) {
    head_known_[root] = true;
    if (!find_bucket(root, false, kNoBucket, &head_[root])) head_[root] = kNoBucket;
    newest_bucket(root, &unused);
  }
  // Seqs must never repeat, even if NVS lost its limit: stay above every name in the newest
  // bucket of each root, orphan photos and tmps included (one may be a record the server
  // already has). Persisted before anything is removed.
  uint32_t largest = 0;
  bool any = false;
  BucketView* newest[2] = {nullptr, nullptr};
  for (uint8_t root = 2; root-- > 0;) {
    if (newest_[root] == kNoBucket) continue;
    newest[root] = view(root, newest_[root], false);  // listed, not yet settled
    if (!newest[root]) return false;
  }
  for (BucketView* v : newest) {
    if (!v) continue;
    uint32_t floor = v->largest_seen != kNoSeq ? v->largest_seen : (v->id << kBucketShift);
    if (!any || floor > largest) largest = floor;
    any = true;
  }
  if (any && !seqs_.ensure_above(largest)) return false;
  for (uint8_t root = 2; root-- > 0;) {
    if (newest[root]) settle(newest[root]);
  }
  return true;
}

// ---- capture --------------------------------------------------------------------------------

uint64_t CaptureQueue::room_wanted() const {
  return room_after_full_ > cfg_.min_free_bytes ? room_after_full_ : cfg_.min_free_bytes;
}

CaptureStatus CaptureQueue::capture(Camera& camera, uint32_t frame, const CaptureStamp& stamp,
                                    ManifestRecord* out) {
  make_room();
  uint64_t free_at_start = fs_.free_bytes();
  uint32_t seq;
  if (!seqs_.next(&seq)) return CaptureStatus::NoSeq;
  char dir[kMaxPathLen];
  char photo[kMaxPathLen];
  char manifest[kMaxPathLen];
  if (!bucket_path(kQueueDir, bucket_of(seq), dir, sizeof(dir)) || !photo_path(seq, photo, sizeof(photo)) ||
      !manifest_path(seq, manifest, sizeof(manifest))) {
    return CaptureStatus::CardFailed;
  }
  if (made_bucket_ != bucket_of(seq)) {
    char group[kMaxPathLen];
    if (!group_path(kQueueDir, group_of(bucket_of(seq)), group, sizeof(group)) || !fs_.make_dir(group) ||
        !fs_.make_dir(dir)) {
      return CaptureStatus::CardFailed;
    }
    made_bucket_ = bucket_of(seq);
  }
  // Never clobber a photo already on the card (begin() keeps seqs above them; this is the backstop).
  if (fs_.exists(photo)) return CaptureStatus::CardFailed;
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
      bool full = sink.write_failed && fs_.free_bytes() < 512;
      fs_.remove(photo);
      if (full) return card_full(free_at_start);
      return sink.write_failed || !stored ? CaptureStatus::CardFailed : CaptureStatus::CameraFailed;
    }
    rec.size = sink.size;
    sink.hash.finish_hex(rec.sha256);
  }
  size_t len = manifest_to_json(rec, scratch_, sizeof(scratch_));
  if (len == 0 || !write_file_replacing(fs_, manifest, scratch_, len)) {
    fs_.remove(manifest);
    fs_.remove(photo);
    return fs_.free_bytes() < 512 ? card_full(free_at_start) : CaptureStatus::CardFailed;
  }
  note(0, seq, CardName::Photo, true);
  note(0, seq, CardName::Record, true);
  note_bucket(0, bucket_of(seq));
  if (!stamp.ntp_synced) {
    if (unsynced_first_ == kNoSeq) unsynced_first_ = seq;
    unsynced_last_ = seq;
  }
  if (out) *out = rec;
  return CaptureStatus::Ok;
}

// The photo did not fit in what make_room() left: from now on keep twice that free (plus a
// cluster), so the next capture evicts enough instead of failing the same way forever.
CaptureStatus CaptureQueue::card_full(uint64_t free_at_start) {
  uint64_t wanted = free_at_start * 2 + 65536;
  if (wanted > room_after_full_) room_after_full_ = wanted;
  return CaptureStatus::CardFull;
}

// ---- the uploader's side ----------------------------------------------------------------------

bool CaptureQueue::peek_oldest(uint32_t* seq) { return oldest_record(0, kNoSeq, seq); }

bool CaptureQueue::peek_after(uint32_t after, uint32_t* seq) {
  if (after == kNoSeq) return false;
  uint32_t b = bucket_of(after);
  BucketView* v = view(0, b);
  if (v && v->first(v->records, after + 1, kNoSeq, seq)) return true;
  // Buckets that hold only photos (their records already done) are skipped, a bounded few.
  for (int guard = 0; guard < 64; ++guard) {
    if (!find_bucket(0, false, b, &b)) return false;
    v = view(0, b);
    if (v && v->first(v->records, 0, kNoSeq, seq)) return true;
  }
  return false;
}

LoadStatus CaptureQueue::load_record(uint32_t seq, ManifestRecord* out) {
  char path[kMaxPathLen];
  size_t len = 0;
  if (!manifest_path(seq, path, sizeof(path))) return LoadStatus::Corrupt;
  ReadStatus read = read_small_file(fs_, path, scratch_, sizeof(scratch_), &len);
  if (read == ReadStatus::TooLarge) return LoadStatus::Corrupt;  // no record is that big
  if (read == ReadStatus::Missing) note(0, seq, CardName::Record, false);  // it really vanished
  if (read != ReadStatus::Ok) {
    if (BucketView* v = cached(0, bucket_of(seq))) {
      if (read != ReadStatus::Missing) *v = BucketView();  // list again next time
    }
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

void CaptureQueue::set_in_flight(uint32_t seq) {
  if (seq == in_flight_) return;
  in_flight_ = seq;
  kv_.put_u32(kInFlightKey, seq);
}

bool CaptureQueue::remove_record(uint8_t root, uint32_t seq) {
  char record[kMaxPathLen];
  char photo[kMaxPathLen];
  if (!seq_path(record, sizeof(record), kRoots[root], seq, ".jsn") || !photo_path(seq, photo, sizeof(photo))) {
    return false;
  }
  // Record first: a cut in between leaves an orphan photo, which settling sweeps up.
  if (!fs_.remove(record) && fs_.exists(record)) return false;
  note(root, seq, CardName::Record, false);
  fs_.remove(photo);
  note(0, seq, CardName::Photo, false);
  return true;
}

bool CaptureQueue::complete(uint32_t seq) { return remove_record(0, seq); }

bool CaptureQueue::quarantine(ManifestRecord& rec, const char* reason) {
  char dir[kMaxPathLen];
  char failed[kMaxPathLen];
  char manifest[kMaxPathLen];
  if (!bucket_path(kFailedDir, bucket_of(rec.seq), dir, sizeof(dir)) ||
      !failed_path(rec.seq, failed, sizeof(failed)) || !manifest_path(rec.seq, manifest, sizeof(manifest))) {
    return false;
  }
  rec.state = RecordState::Failed;
  copy_reason(rec.reason, sizeof(rec.reason), reason);
  size_t len = manifest_to_json(rec, scratch_, sizeof(scratch_));
  char group[kMaxPathLen];
  if (!group_path(kFailedDir, group_of(bucket_of(rec.seq)), group, sizeof(group))) return false;
  if (len == 0 || !fs_.make_dir(group) || !fs_.make_dir(dir) || !write_file_replacing(fs_, failed, scratch_, len)) {
    return false;
  }
  note(1, rec.seq, CardName::Record, true);
  note_bucket(1, bucket_of(rec.seq));
  if (!fs_.remove(manifest)) return false;
  note(0, rec.seq, CardName::Record, false);
  return true;
}

bool CaptureQueue::discard_unreadable(uint32_t seq) {
  if (!remove_record(0, seq)) return false;
  count_dropped();
  return true;
}

void CaptureQueue::count_dropped() {
  ++dropped_;
  kv_.put_u32(kDroppedKey, dropped_);
}

// ---- eviction -------------------------------------------------------------------------------

bool CaptureQueue::evict_one() {
  uint32_t victim;
  for (uint8_t root = 1;; root = 0) {  // quarantined records go first
    if (oldest_record(root, in_flight_, &victim)) {
      if (!remove_record(root, victim)) return false;
      count_dropped();
      return true;
    }
    if (root == 0) return false;
  }
}

uint32_t CaptureQueue::make_room() {
  uint32_t evicted = 0;
  uint64_t wanted = room_wanted();
  while (evicted < kMaxEvictionsPerCapture && fs_.free_bytes() < wanted && evict_one()) ++evicted;
  return evicted;
}

uint32_t CaptureQueue::count_in(uint8_t root) {
  uint32_t first, last;
  if (!head_bucket(root, &first) || !newest_bucket(root, &last)) return 0;
  BucketView* v = view(root, first);
  uint32_t n = v ? v->count(v->records) : 0;
  if (last <= first) return n;
  v = view(root, last);
  n += v ? v->count(v->records) : 0;
  return n + (last - first - 1) * kBucketSeqs;
}

// ---- frames and time ------------------------------------------------------------------------

bool CaptureQueue::newest_frame(uint32_t* frame) {
  // Frames and seqs grow together, so the newest record carries the highest frame.
  bool found = false;
  for (uint8_t root = 0; root < 2; ++root) {
    uint32_t b = kNoBucket, seq = 0;
    bool have = false;
    // The newest folder may hold only leftovers; then the one before it has the newest record.
    for (int tries = 0; tries < 2 && !have; ++tries) {
      if (tries == 0 ? !newest_bucket(root, &b) : !find_bucket(root, true, b, &b)) break;
      BucketView* v = view(root, b);
      have = v && v->last(v->records, &seq);
    }
    if (!have) continue;
    char path[kMaxPathLen];
    size_t len = 0;
    ManifestRecord rec;
    if (!seq_path(path, sizeof(path), kRoots[root], seq, ".jsn")) continue;
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

// Rewrites up to max_records of this boot's unsynced records from *cursor on. True when done.
bool CaptureQueue::correction_step(const ClockReading& now, uint32_t* cursor, uint32_t max_records,
                                   uint32_t* fixed) {
  if (unsynced_first_ == kNoSeq) return true;
  if (*cursor == kNoSeq || *cursor < unsynced_first_) *cursor = unsynced_first_;
  uint32_t done = 0;
  while (*cursor <= unsynced_last_ && done < max_records) {
    BucketView* v = view(0, bucket_of(*cursor));
    uint32_t seq;
    if (!v || !v->first(v->records, *cursor, kNoSeq, &seq) || seq > unsynced_last_) {
      // Nothing more in this bucket: on to the next one.
      uint32_t next = (bucket_of(*cursor) + 1) << kBucketShift;
      if (next == 0) return true;
      *cursor = next;
      continue;
    }
    *cursor = seq + 1;
    ++done;
    ManifestRecord rec;
    if (!load(seq, &rec)) continue;
    CaptureStamp better = resolve_capture_time(rec.stamp, now);
    if (better.time_corrected == rec.stamp.time_corrected) continue;
    rec.stamp = better;
    if (save(rec)) ++*fixed;
    if (seq == kNoSeq - 1) return true;
  }
  return *cursor > unsynced_last_;
}

uint32_t CaptureQueue::apply_time_correction(const ClockReading& now) {
  if (!now.synced) return 0;
  uint32_t fixed = 0;
  uint32_t cursor = kNoSeq;
  while (!correction_step(now, &cursor, kCorrectionChunk, &fixed)) {
  }
  return fixed;
}

bool CaptureQueue::correct_times_after_sync(Clock& clock, uint32_t boot_id, uint32_t* fixed) {
  if (times_corrected_ || !clock.wall_synced()) return false;
  if (!correcting_) {
    correcting_ = true;
    correction_clock_ = read_clock(clock, boot_id);
    correction_cursor_ = kNoSeq;
    correction_fixed_ = 0;
  }
  if (!correction_step(correction_clock_, &correction_cursor_, kCorrectionChunk, &correction_fixed_)) return false;
  times_corrected_ = true;
  *fixed = correction_fixed_;
  return true;
}

}  // namespace lifelog
