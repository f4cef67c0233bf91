#pragma once
#include <cstddef>
#include <cstdint>

#include "camera.h"
#include "file_system.h"
#include "kv_store.h"
#include "manifest.h"
#include "seq_allocator.h"

namespace lifelog {

// Card layout (seq zero-padded so names sort by age and parse cheaply):
//   /queue/0000000123.jpg       photo bytes
//   /manifests/0000000123.json  the record that commits the photo to the queue
//   /failed/0000000123.json     records the server refused for good (quarantine)
// A photo without a record is an unfinished capture or deletion and is removed at boot.
constexpr const char* kQueueDir = "/queue";
constexpr const char* kManifestDir = "/manifests";
constexpr const char* kFailedDir = "/failed";
constexpr const char* kDroppedKey = "dropped";
constexpr uint32_t kNoSeq = 0xFFFFFFFFu;

bool photo_path(uint32_t seq, char* out, size_t cap);
bool manifest_path(uint32_t seq, char* out, size_t cap);
bool failed_path(uint32_t seq, char* out, size_t cap);
// "0000000123.json" -> 123 (only exact record names, never ".tmp" leftovers).
bool parse_record_name(const char* name, const char* ext, uint32_t* seq);

enum class CaptureStatus : uint8_t { Ok, NoSeq, CameraFailed, CardFailed };
// IoError: the card did not give the whole file (read error, short read, missing): keep it.
// Corrupt: the whole file was read and is not a record for that seq.
enum class LoadStatus : uint8_t { Ok, IoError, Corrupt };

struct QueueConfig {
  // Before each capture the oldest photos are evicted until this much space is free.
  uint64_t min_free_bytes = 2 * 1024 * 1024;
};

class CaptureQueue {
 public:
  static constexpr size_t kOldestCache = 16;

  CaptureQueue(FileSystem& fs, KeyValueStore& kv, SeqAllocator& seqs, const QueueConfig& cfg)
      : fs_(fs), kv_(kv), seqs_(seqs), cfg_(cfg) {}

  // Creates folders, settles whatever a power cut left behind and moves the seq allocator
  // above every seq on the card. Leftovers the card refuses to remove stay until the next
  // begin() (still true); false when a folder is unusable or the seq limit cannot be persisted.
  bool begin();

  CaptureStatus capture(Camera& camera, uint32_t frame, const CaptureStamp& stamp, ManifestRecord* out);

  bool peek_oldest(uint32_t* seq);  // oldest record waiting in /manifests
  // The oldest waiting record with a seq above `after` (lets the uploader step past a photo
  // that keeps failing). From the oldest-first cache when it reaches that far, else one listing.
  bool peek_after(uint32_t after, uint32_t* seq);
  LoadStatus load_record(uint32_t seq, ManifestRecord* out);
  bool load(uint32_t seq, ManifestRecord* out) { return load_record(seq, out) == LoadStatus::Ok; }
  bool save(const ManifestRecord& rec);
  bool complete(uint32_t seq);  // the photo is ingested: forget it
  bool quarantine(ManifestRecord& rec, const char* reason);
  // A record that reads back Corrupt is dropped rather than retried forever.
  bool discard_unreadable(uint32_t seq);

  // The photo the uploader is working on (from its first attempt until it is ingested,
  // quarantined or discarded, retries and backoff waits included) is never evicted.
  void set_in_flight(uint32_t seq) { in_flight_ = seq; }
  void clear_in_flight() { in_flight_ = kNoSeq; }

  // Evicts oldest-first (quarantined records before queued ones) until enough space is free.
  uint32_t make_room();
  uint32_t dropped() const { return dropped_; }
  FileSystem& file_system() { return fs_; }
  uint32_t pending_count() { return count_records(kManifestDir); }
  uint32_t failed_count() { return count_records(kFailedDir); }
  // Frame index of the newest record on the card (either folder), if any.
  bool newest_frame(uint32_t* frame);
  // The frame index to capture next: `counted` (the counter kept in NVS), or one past the newest
  // record on the card when that is further (a cut between committing a photo and saving the counter).
  uint32_t resume_frame_count(uint32_t counted);
  // Rewrites this boot's unsynced records once the clock is trustworthy. Returns how many.
  uint32_t apply_time_correction(const ClockReading& now);
  // apply_time_correction() once per queue, at the first call that finds the clock synced.
  // True on that call only, with *fixed set to how many records were rewritten.
  bool correct_times_after_sync(Clock& clock, uint32_t boot_id, uint32_t* fixed);

 private:
  bool evict_one();
  bool oldest_evictable(uint32_t* seq);
  void count_dropped();
  uint32_t count_records(const char* dir);
  bool remove_record(const char* manifest, uint32_t seq);
  void forget_cached(uint32_t seq);
  bool refill_cache();
  uint32_t remove_orphan_photos();
  void recover_tmp_files(const char* dir);

  FileSystem& fs_;
  KeyValueStore& kv_;
  SeqAllocator& seqs_;
  QueueConfig cfg_;
  uint32_t dropped_ = 0;
  uint32_t in_flight_ = kNoSeq;
  bool times_corrected_ = false;
  uint32_t oldest_[kOldestCache] = {};
  size_t oldest_len_ = 0;
  size_t oldest_pos_ = 0;
  bool oldest_valid_ = false;
  bool oldest_complete_ = false;  // the cache held every record when filled
  char scratch_[kManifestMaxBytes + 1] = {};
};

}  // namespace lifelog
