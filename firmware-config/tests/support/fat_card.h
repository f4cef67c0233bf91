#pragma once
// A microSD card as the board's software sees it: FatFs (ESP-IDF's ff.c, long file names
// on, FF_FS_TINY 0, a FAT32 volume as SD cards up to 32 GB are formatted) under ESP-IDF's
// VFS and arduino-esp32 3.x's FS layer (libraries/FS/src/vfs_api.cpp, SD), with their
// costs and limits. Every 512-byte sector read and written is counted. Sources, per fact:
//  - FatFs keeps one sector window per volume for directory and FAT sectors (fs->win);
//    move_window() reads only when the sector changes. Each open file has its own buffer.
//  - follow_path()/dir_find() resolve every path from the root and scan each folder from
//    its first entry until the name or the first never-used entry (the end marker).
//    Deleted entries (0xE5) are holes that are scanned like used ones.
//  - A name that is not 8.3, or mixes upper and lower case within its body or extension,
//    takes 1 + ceil(len/13) entries (LFN entries + the short entry); an 8.3 name takes 1.
//  - A lossy (not 8.3) name gets a numbered short name: dir_register() tries "~1".."~5",
//    then hashed tails, running one full dir_find() per try until one is free.
//  - dir_alloc() scans from the first entry for enough consecutive free entries (holes left
//    by deletions are reused), stretching the folder by a zeroed cluster at its end; a
//    folder cannot exceed 2 MiB of entries (MAX_DIR): 65,536 entries, then FR_DENIED.
//  - Crossing a cluster of a folder or file reads the FAT sector with the next link.
//  - f_getfree() answers from the free-cluster count kept since mount (FSINFO), no scan;
//    space is used in whole clusters (32 KiB on a 32 GB card), folders included.
//  - Vfs::Arduino3x, the default: arduino-esp32 3.1.3's libraries/FS/src/vfs_api.cpp, what
//    users install (the sketch requires 3.x). SD.open(): stat, then the File's constructor
//    stats again and runs fopen (a folder: opendir); a miss: stat then opendir. exists() is
//    the constructor alone (stat + fopen/opendir); open(path, "w") of a new name: stat,
//    opendir, stat, fopen; remove() opens the file (stat + fopen) before unlink; rename()
//    runs exists() first; rmdir() stat + opendir before f_unlink; mkdir() stat + opendir.
//  - Vfs::Newest: arduino-esp32's newest sources: exists() and open(path, "r") run fopen, and when that
//    fails stat and opendir: three lookups for a missing name or a folder; open(path, "w")
//    runs fopen then stat (two); mkdir() stats first; rename()/remove()/rmdir() map to
//    f_rename/f_unlink. A listing opens the folder (fopen, stat, opendir) and reads entries
//    in order (readdir); openNextFile() then opens each entry again by its full path, while
//    getNextFileName() only returns the name.
//  - fsinfo_free_known false: the card's FSINFO free count is 0xFFFFFFFF (unknown), so the
//    first f_getfree() after each mount scans the whole FAT (one read per FAT sector).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lifelog/file_system.h"

class FatCard : public lifelog::FileSystem {
 public:
  static constexpr uint32_t kSectorBytes = 512;
  static constexpr uint32_t kEntryBytes = 32;
  static constexpr uint32_t kMaxDirEntries = 0x200000 / kEntryBytes;  // FatFs MAX_DIR
  enum class Listing : uint8_t { NextFileName, OpenNextFile };
  enum class Vfs : uint8_t { Arduino3x, Newest };

  explicit FatCard(uint64_t card_bytes = 32ull << 30, uint32_t cluster_bytes = 32768);
  ~FatCard() override;

  uint64_t sector_reads = 0;
  uint64_t sector_writes = 0;
  uint64_t lookups = 0;  // follow_path() calls
  Listing listing = Listing::NextFileName;
  Vfs vfs = Vfs::Arduino3x;
  bool fsinfo_free_known = true;  // set before the first remount() that should see it

  // Unmount and mount: open files are gone, the window is empty, FSINFO is read again.
  void remount();
  // Entries a folder has in use or deleted before its end marker (what a miss scans).
  size_t scanned_entries(const char* dir);
  static size_t entries_for_name(const std::string& name);
  // Test set-up: `count` files named printf(pattern, i) created in `dir` as f_open would,
  // without counting the cost (to reach a big folder quickly). False when one does not fit.
  bool preload(const char* dir, size_t count, const char* pattern);

  int open(const char* path, lifelog::OpenMode mode) override;
  int32_t read(int fd, uint8_t* buf, size_t len) override;
  int32_t write(int fd, const uint8_t* buf, size_t len) override;
  bool flush(int fd) override;
  bool close(int fd) override;
  bool exists(const char* path) override;
  int64_t file_size(const char* path) override;
  int64_t open_size(int fd) override;  // VFSFileImpl::size(): the stat its open made, no lookup
  bool remove(const char* path) override;
  bool rename(const char* from, const char* to) override;
  bool make_dir(const char* path) override;
  bool remove_dir(const char* path) override;
  bool list_dir(const char* dir, lifelog::DirVisitor& visitor) override;
  uint64_t free_bytes() override;

 private:
  struct Node;
  struct Slot {
    enum State : uint8_t { Never, Used, Deleted } state = Never;
    Node* node = nullptr;  // on the short entry of a name
  };
  struct Node {
    bool is_dir = false;
    std::string name;  // as created
    std::string sfn;   // 11 bytes, upper case, space padded
    std::vector<uint32_t> clusters;
    std::vector<uint8_t> data;
    std::vector<Slot> slots;  // folders: one per 32-byte entry of its clusters
    Node* parent = nullptr;
    size_t first_slot = 0, slot_count = 0;  // where its entries sit in the parent
  };
  struct Handle {
    Node* node;
    uint64_t pos;
    bool writable;
    bool modified;
    uint64_t buffered_sector;  // the file's own sector buffer
  };

  uint64_t fat_sector(uint32_t cluster) const { return fat_base_ + cluster / 128; }  // FAT32: 4 bytes a link
  uint64_t data_sector(uint32_t cluster, uint32_t sector) const {
    return data_base_ + uint64_t(cluster - 2) * sectors_per_cluster_ + sector;
  }
  void window(uint64_t sector);
  void dirty_window() { window_dirty_ = true; }
  uint64_t slot_sector(const Node& dir, size_t slot, size_t* last_cluster_index);
  Node* dir_find(Node& dir, const std::string& name, bool sfn_only);
  Node* follow_path(const std::string& path, Node** parent, std::string* leaf);
  bool dir_register(Node& dir, Node* node);
  bool dir_alloc(Node& dir, size_t count, size_t* first);
  void dir_delete(Node* node);
  bool alloc_cluster(Node& node);
  void free_chain(Node& node);
  // exists(), or SD.open(path, "r") when `via_fs_open` (VFSImpl::open's own stat first).
  bool vfs_open_read(const std::string& path, Node** out, bool via_fs_open);
  Node* lookup(const std::string& path) { return follow_path(path, nullptr, nullptr); }
  void count_data(Handle& h, uint64_t from, uint64_t to, bool writing);

  uint32_t cluster_bytes_;
  uint32_t sectors_per_cluster_;
  uint32_t entries_per_cluster_;
  uint32_t cluster_count_;
  uint64_t fat_base_ = 32;  // reserved sectors before the FAT
  uint64_t data_base_;
  std::vector<bool> used_;
  uint32_t free_clusters_;
  bool free_count_valid_ = true;
  uint32_t last_cluster_ = 2;
  uint64_t window_ = UINT64_MAX;
  bool window_dirty_ = false;
  std::vector<std::unique_ptr<Node>> nodes_;
  Node* root_;
  std::vector<std::unique_ptr<Handle>> handles_;
};
