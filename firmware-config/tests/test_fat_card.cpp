// The FAT double itself: each cost and limit it claims (tests/support/fat_card.h).
#include <cstdio>
#include <string>

#include "lifelog/capture_queue.h"
#include "support/fat_card.h"
#include "support/rig.h"
#include "support/test.h"

using namespace lifelog;

namespace {

class Names : public DirVisitor {
 public:
  bool on_entry(const char*, bool) override {
    ++count;
    return true;
  }
  size_t count = 0;
};

bool touch(FatCard& fs, const std::string& path) {
  int fd = fs.open(path.c_str(), OpenMode::Write);
  if (fd < 0) return false;
  uint8_t b = 1;
  bool ok = fs.write(fd, &b, 1) == 1;
  return fs.close(fd) && ok;
}

}  // namespace

TEST(fat_names_take_entries_as_fatfs_counts_them) {
  CHECK_EQ(FatCard::entries_for_name("0000007b.jsn"), 1u);    // 8.3, lower case: NT flags, no LFN
  CHECK_EQ(FatCard::entries_for_name("0000007B.JSN"), 1u);
  CHECK_EQ(FatCard::entries_for_name("0000000123.jpg"), 3u);  // 14 chars: 2 LFN + 1 short entry
  CHECK_EQ(FatCard::entries_for_name("0000000123.json.tmp"), 3u);
  CHECK_EQ(FatCard::entries_for_name("Photo.jpg"), 2u);       // mixed case in the body needs an LFN
  FatCard fs;
  CHECK(fs.make_dir("/d"));
  CHECK_EQ(fs.scanned_entries("/d"), 2u);  // "." and ".."
  CHECK(touch(fs, "/d/0000000123.jpg"));
  CHECK(touch(fs, "/d/0000007b.jsn"));
  CHECK_EQ(fs.scanned_entries("/d"), 6u);
}

static void lookups_scan_from_the_first_entry(FatCard::Vfs vfs, uint64_t miss_lookups, uint64_t hit_reads_max) {
  FatCard fs;
  fs.vfs = vfs;
  CHECK(fs.make_dir("/d"));
  CHECK(fs.preload("/d", 2000, "%08lx.jpg"));  // 2000 entries: 125 sectors
  fs.remount();
  uint64_t before = fs.sector_reads;
  CHECK(fs.exists("/d/00000000.jpg"));
  uint64_t first = fs.sector_reads - before;
  before = fs.sector_reads;
  CHECK(fs.exists("/d/000007cf.jpg"));
  uint64_t last = fs.sector_reads - before;
  before = fs.sector_reads;
  uint64_t lookups = fs.lookups;
  CHECK(!fs.exists("/d/nothere.jpg"));
  uint64_t miss = fs.sector_reads - before;
  CHECK_EQ(fs.lookups - lookups, miss_lookups);
  CHECK(first <= hit_reads_max);  // root and folder sector, once per lookup at most
  CHECK(last >= 125);
  CHECK(miss >= miss_lookups * 125);  // each lookup scans the whole folder
}

TEST(fat_lookups_scan_from_the_first_entry_and_a_miss_scans_to_the_end) {
  lookups_scan_from_the_first_entry(FatCard::Vfs::Newest, 3, 3);     // miss: fopen, stat, opendir
  lookups_scan_from_the_first_entry(FatCard::Vfs::Arduino3x, 2, 4);  // 3.1.3 exists(): stat, then fopen/opendir
}

TEST(fat_unknown_fsinfo_free_count_scans_the_fat_once_after_each_mount) {
  FatCard fs;  // 32 GB, 32 KiB clusters: about 1M FAT32 links, 8,190-odd FAT sectors
  fs.fsinfo_free_known = false;
  fs.remount();
  uint64_t before = fs.sector_reads;
  fs.free_bytes();
  uint64_t first = fs.sector_reads - before;
  before = fs.sector_reads;
  fs.free_bytes();
  CHECK(first > 8000 && first < 8300);
  CHECK_EQ(fs.sector_reads - before, 0u);
  fs.remount();
  before = fs.sector_reads;
  fs.free_bytes();
  CHECK(fs.sector_reads - before > 8000);
}



TEST(fat_long_names_pay_for_numbered_short_names) {
  FatCard fs;
  CHECK(fs.make_dir("/flat"));
  CHECK(fs.make_dir("/short"));
  CHECK(fs.preload("/flat", 300, "%010lu.jpg"));
  CHECK(fs.preload("/short", 300, "%08lx.jpg"));
  uint64_t before = fs.sector_reads;
  CHECK(touch(fs, "/flat/0000009999.jpg"));
  uint64_t long_cost = fs.sector_reads - before;
  before = fs.sector_reads;
  CHECK(touch(fs, "/short/0000270f.jpg"));
  uint64_t short_cost = fs.sector_reads - before;
  // Three entries a name make every scan three times longer; "~1".."~5" collide with the first
  // files (found early), and the hashed tail that is free costs one more full scan.
  CHECK(long_cost > 3 * short_cost);
}

TEST(fat_listing_with_open_next_file_is_quadratic_get_next_file_name_is_not) {
  FatCard fs;
  CHECK(fs.make_dir("/d"));
  CHECK(fs.preload("/d", 1000, "%08lx.jpg"));
  Names a, b;
  uint64_t before = fs.sector_reads;
  CHECK(fs.list_dir("/d", a));
  uint64_t by_name = fs.sector_reads - before;
  fs.listing = FatCard::Listing::OpenNextFile;
  before = fs.sector_reads;
  CHECK(fs.list_dir("/d", b));
  uint64_t by_open = fs.sector_reads - before;
  CHECK_EQ(a.count, 1000u);
  CHECK_EQ(b.count, 1000u);
  CHECK(by_name < 4 * 64);        // the folder once (63 sectors) plus opening it
  CHECK(by_open > 1000 * 60 / 2);  // every entry scanned for again from the start
}

TEST(fat_deleted_entries_are_holes_that_new_names_reuse) {
  FatCard fs;
  CHECK(fs.make_dir("/d"));
  for (int i = 0; i < 40; ++i) CHECK(touch(fs, "/d/" + std::to_string(10000000 + i) + ".jpg"));
  size_t used = fs.scanned_entries("/d");
  for (int i = 0; i < 20; ++i) CHECK(fs.remove(("/d/" + std::to_string(10000000 + i) + ".jpg").c_str()));
  CHECK_EQ(fs.scanned_entries("/d"), used);  // holes stay scanned: the end marker does not move
  for (int i = 0; i < 20; ++i) CHECK(touch(fs, "/d/" + std::to_string(20000000 + i) + ".jpg"));
  CHECK_EQ(fs.scanned_entries("/d"), used);  // and are reused before the folder grows
  CHECK(touch(fs, "/d/30000000.jpg"));
  CHECK_EQ(fs.scanned_entries("/d"), used + 1);
}

TEST(fat_folder_holds_at_most_65536_entries) {
  FatCard fs;
  CHECK(fs.make_dir("/d"));
  CHECK(fs.preload("/d", 65534, "%08lx.jpg"));  // with "." and "..": the 2 MiB maximum
  CHECK(!touch(fs, "/d/zzzzzzzz.jpg"));
  CHECK(!fs.exists("/d/zzzzzzzz.jpg"));
  CHECK(fs.remove("/d/00000005.jpg"));
  CHECK(touch(fs, "/d/zzzzzzzz.jpg"));  // a hole makes room again
  FatCard lfn;
  CHECK(lfn.make_dir("/d"));
  CHECK(lfn.preload("/d", 21844, "%010lu.jpg"));  // 3 entries each: 21,844 photos fill a folder
  CHECK(!touch(lfn, "/d/long-name-x.jpg"));
}

TEST(fat_space_is_counted_in_clusters) {
  FatCard fs(64ull << 20, 32768);  // 64 MiB card, 32 KiB clusters: 2048 clusters
  uint64_t free0 = fs.free_bytes();
  CHECK(touch(fs, "/a.jpg"));  // one byte takes a whole cluster
  CHECK_EQ(free0 - fs.free_bytes(), 32768u);
  CHECK(fs.make_dir("/d"));  // so does a folder
  CHECK_EQ(free0 - fs.free_bytes(), 65536u);
  CHECK(fs.remove("/a.jpg"));
  CHECK_EQ(free0 - fs.free_bytes(), 32768u);
  // Filling the card: writes stop short, then fail.
  int fd = fs.open("/big.jpg", OpenMode::Write);
  CHECK(fd >= 0);
  std::vector<uint8_t> chunk(1 << 20, 7);
  uint64_t written = 0;
  for (;;) {
    int32_t n = fs.write(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    written += uint64_t(n);
  }
  CHECK(fs.close(fd));
  CHECK_EQ(fs.free_bytes(), 0u);
  CHECK(written == free0 - 32768);  // all but the folder's cluster
}

// The queue on this card: any one capture or upload step stays within a fixed number of
// sector reads however long the backlog; the benchmark prints the figures.
TEST(fat_queue_capture_cost_does_not_grow_with_the_backlog) {
  FatCard fs;
  MemKv kv;
  SeqAllocator seqs(kv);
  QueueConfig cfg;
  cfg.min_free_bytes = 0;
  CaptureQueue q(fs, kv, seqs, cfg);
  seqs.begin();
  CHECK(q.begin());
  PatternCamera cam;
  cam.size = 300;
  uint64_t worst_early = 0, worst_late = 0;
  for (uint32_t i = 0; i < 3000; ++i) {
    uint64_t before = fs.sector_reads;
    CHECK(q.capture(cam, i, CaptureStamp(), nullptr) == CaptureStatus::Ok);
    uint64_t cost = fs.sector_reads - before;
    if (i < 512) worst_early = cost > worst_early ? cost : worst_early;
    else worst_late = cost > worst_late ? cost : worst_late;
  }
  CHECK(worst_late <= 2 * worst_early);
  CHECK(worst_late < 2000);
  fs.remount();
  uint64_t before = fs.sector_reads;
  SeqAllocator seqs2(kv);
  CaptureQueue again(fs, kv, seqs2, cfg);
  CHECK(again.begin());
  uint32_t oldest;
  CHECK(again.peek_oldest(&oldest));
  CHECK_EQ(oldest, 0u);
  CHECK(fs.sector_reads - before < 2000);
}
