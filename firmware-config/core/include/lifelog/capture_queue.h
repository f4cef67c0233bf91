#pragma once
#include <cstddef>
#include <cstdint>

#include "camera.h"
#include "file_system.h"
#include "kv_store.h"
#include "manifest.h"
#include "seq_allocator.h"

namespace lifelog {

// Card layout: seqs in buckets of 128, buckets in groups of 64, every name 8.3 so that each
// takes one FAT directory entry and no numbered short name (tests/support/fat_card.h says what
// longer names cost):
//   /queue/<group>/<bucket>/<seq>.jpg    photo bytes      group = bucket >> 6 (5 hex digits)
//   /queue/<group>/<bucket>/<seq>.jsn    the record that commits the photo to the queue
//   /failed/<group>/<bucket>/<seq>.jsn   a record the server refused for good (photo stays in /queue)
//   <seq>.tmp beside a record            its replacement while it is written (atomic_file.h)
// bucket = seq >> 7 (6 hex digits), seq: 8 hex digits. A bucket folder never holds more than
// 2 x 128 names plus a few tmps, a group 64 folders, a root one folder per 8,192 seqs, so every
// lookup is bounded whatever the backlog. A photo without a record is an unfinished capture
// or deletion and is removed when its bucket is first listed in a boot.
constexpr const char* kQueueDir = "/queue";
constexpr const char* kFailedDir = "/failed";
constexpr const char* kDroppedKey = "dropped";
constexpr const char* kInFlightKey = "in_flight";
constexpr uint32_t kNoSeq = 0xFFFFFFFFu;
constexpr uint32_t kBucketShift = 7;
constexpr uint32_t kGroupShift = 6;
constexpr uint32_t kBucketSeqs = 1u << kBucketShift;
constexpr uint32_t kNoBucket = 0xFFFFFFFFu;

bool photo_path(uint32_t seq, char* out, size_t cap);
bool manifest_path(uint32_t seq, char* out, size_t cap);
bool failed_path(uint32_t seq, char* out, size_t cap);
bool bucket_path(const char* root, uint32_t bucket, char* out, size_t cap);
enum class CardName : uint8_t { Photo, Record, Tmp };
// "0000007b.jsn" -> seq 123, Record. Only exact names of those three kinds.
bool parse_card_name(const char* name, uint32_t* seq, CardName* kind);

// CardFull: the card had no room for the photo even after eviction (the next capture
// evicts enough for a photo of that size). CardFailed: any other card error.
enum class CaptureStatus : uint8_t { Ok, NoSeq, CameraFailed, CardFailed, CardFull };
const char* capture_status_name(CaptureStatus s);
// IoError: the card did not give the whole file (read error, short read, missing): keep it.
// Corrupt: the whole file was read and is not a record for that seq.
enum class LoadStatus : uint8_t { Ok, IoError, Corrupt };

struct QueueConfig {
  // Before each capture the oldest photos are evicted until this much space is free (or,
  // after a photo that did not fit, twice the room it failed in).
  uint64_t min_free_bytes = 2 * 1024 * 1024;
};

// What the queue knows about one bucket folder after listing it once (names only).
struct BucketView {
  static constexpr size_t kWords = kBucketSeqs / 32;
  uint8_t root = 0;  // 0 /queue, 1 /failed
  uint32_t id = kNoBucket;
  uint32_t used = 0;  // for replacing the least recently used view
  uint32_t records[kWords] = {};
  uint32_t photos[kWords] = {};
  uint32_t tmps[kWords] = {};
  uint32_t largest_seen = kNoSeq;  // any name, before settling
  bool valid() const { return id != kNoBucket; }
  static size_t word(uint32_t seq) { return (seq & (kBucketSeqs - 1)) >> 5; }
  static bool has(const uint32_t* set, uint32_t seq) { return (set[word(seq)] >> (seq & 31)) & 1u; }
  static void put(uint32_t* set, uint32_t seq, bool on) {
    uint32_t bit = 1u << (seq & 31);
    if (on) set[word(seq)] |= bit; else set[word(seq)] &= ~bit;
  }
  uint32_t count(const uint32_t* set) const;
  // The smallest seq in set at or after `from` (a seq in this bucket), other than `skip`.
  bool first(const uint32_t* set, uint32_t from, uint32_t skip, uint32_t* seq) const;
  bool last(const uint32_t* set, uint32_t* seq) const;
  bool empty() const { return count(records) == 0 && count(photos) == 0 && count(tmps) == 0; }
};

class CaptureQueue {
 public:
  // Records rewritten per correct_times_after_sync() call, so a long pass leaves room for
  // captures and the watchdog between calls.
  static constexpr uint32_t kCorrectionChunk = 4;
  // Evictions per capture at most; a capture that still finds no room reports CardFull.
  static constexpr uint32_t kMaxEvictionsPerCapture = 32;

  CaptureQueue(FileSystem& fs, KeyValueStore& kv, SeqAllocator& seqs, const QueueConfig& cfg)
      : fs_(fs), kv_(kv), seqs_(seqs), cfg_(cfg) {}

  // Creates the two roots, moves the seq allocator above every seq on the card and settles
  // the newest buckets (tmps, orphans). Other buckets are settled when first used, so boot
  // work does not grow with the backlog. Leftovers the card refuses to remove stay until
  // they are listed again (still true); false when a folder is unusable or the seq limit
  // cannot be persisted.
  bool begin();

  CaptureStatus capture(Camera& camera, uint32_t frame, const CaptureStamp& stamp, ManifestRecord* out);

  bool peek_oldest(uint32_t* seq);  // oldest record waiting in /queue
  // The oldest waiting record with a seq above `after` (lets the uploader step past a photo
  // that keeps failing): the rest of after's bucket, then the next buckets that hold one.
  bool peek_after(uint32_t after, uint32_t* seq);
  LoadStatus load_record(uint32_t seq, ManifestRecord* out);
  bool load(uint32_t seq, ManifestRecord* out) { return load_record(seq, out) == LoadStatus::Ok; }
  bool save(const ManifestRecord& rec);
  bool complete(uint32_t seq);  // the photo is ingested: forget it
  bool quarantine(ManifestRecord& rec, const char* reason);
  // A record that reads back Corrupt is dropped rather than retried forever.
  bool discard_unreadable(uint32_t seq);

  // The photo the uploader is working on (from its first attempt until it is ingested,
  // quarantined or discarded, retries and backoff waits included) is never evicted. The
  // seq is kept in NVS, so the protection survives a reboot (cleared lazily: the next
  // photo's first attempt overwrites it).
  void set_in_flight(uint32_t seq);
  void clear_in_flight() { in_flight_ = kNoSeq; }
  uint32_t in_flight() const { return in_flight_; }

  // Evicts oldest-first (quarantined records before queued ones) until enough space is free.
  uint32_t make_room();
  uint32_t dropped() const { return dropped_; }
  FileSystem& file_system() { return fs_; }
  // Exact for the oldest and newest buckets; each bucket in between counts as full (kBucketSeqs), so
  // for a long backlog these are upper bounds (listing every bucket would cost O(backlog)).
  uint32_t pending_count() { return count_in(0); }
  uint32_t failed_count() { return count_in(1); }
  // Frame index of the newest record on the card (either root), if any.
  bool newest_frame(uint32_t* frame);
  // The frame index to capture next: `counted` (the counter kept in NVS), or one past the newest
  // record on the card when that is further (a cut between committing a photo and saving the counter).
  uint32_t resume_frame_count(uint32_t counted);
  // Rewrites this boot's unsynced records once the clock is trustworthy, all in one go. Returns how many.
  uint32_t apply_time_correction(const ClockReading& now);
  // The same pass in chunks of kCorrectionChunk records, one chunk per call, starting at the
  // first call that finds the clock synced. True on the call that finishes it only, with
  // *fixed set to how many records were rewritten. Work is O(this boot's unsynced photos).
  bool correct_times_after_sync(Clock& clock, uint32_t boot_id, uint32_t* fixed);

 private:
  static constexpr size_t kViews = 4;
  BucketView* view(uint8_t root, uint32_t bucket, bool settled = true);
  bool list_bucket(uint8_t root, uint32_t bucket, BucketView* v);
  void settle(BucketView* v);
  BucketView* cached(uint8_t root, uint32_t bucket);
  void note(uint8_t root, uint32_t seq, CardName kind, bool present);
  bool find_bucket(uint8_t root, bool largest, uint32_t after, uint32_t* bucket);
  bool head_bucket(uint8_t root, uint32_t* bucket);
  bool newest_bucket(uint8_t root, uint32_t* bucket);
  void note_bucket(uint8_t root, uint32_t bucket);
  void retire_if_empty(BucketView* v);
  bool oldest_record(uint8_t root, uint32_t skip, uint32_t* seq);
  bool evict_one();
  void count_dropped();
  uint32_t count_in(uint8_t root);
  bool remove_record(uint8_t root, uint32_t seq);
  bool correction_step(const ClockReading& now, uint32_t* cursor, uint32_t max_records, uint32_t* fixed);
  uint64_t room_wanted() const;
  CaptureStatus card_full(uint64_t free_at_start);

  FileSystem& fs_;
  KeyValueStore& kv_;
  SeqAllocator& seqs_;
  QueueConfig cfg_;
  uint32_t dropped_ = 0;
  uint32_t in_flight_ = kNoSeq;
  // Smallest bucket holding a record, per root: kNoBucket with head_known_ means none.
  uint32_t head_[2] = {kNoBucket, kNoBucket};
  bool head_known_[2] = {false, false};
  uint32_t newest_[2] = {kNoBucket, kNoBucket};  // largest bucket folder, per root
  bool newest_known_[2] = {false, false};
  uint32_t made_bucket_ = kNoBucket;  // the capture bucket whose folder is known to exist
  uint64_t room_after_full_ = 0;      // free space wanted since a photo did not fit (this boot)
  BucketView views_[kViews];
  uint32_t view_clock_ = 0;
  // This boot's captures taken before the clock was set, for the time-correction pass.
  uint32_t unsynced_first_ = kNoSeq;
  uint32_t unsynced_last_ = kNoSeq;
  bool times_corrected_ = false;
  bool correcting_ = false;
  ClockReading correction_clock_;
  uint32_t correction_cursor_ = kNoSeq;
  uint32_t correction_fixed_ = 0;
  char scratch_[kManifestMaxBytes + 1] = {};
};

}  // namespace lifelog
