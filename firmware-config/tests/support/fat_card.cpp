#include "support/fat_card.h"

#include <cstdio>
#include <cstring>
#include <set>

#include "support/heap_meter.h"

using lifelog::OpenMode;

namespace {

char upper(char c) { return (c >= 'a' && c <= 'z') ? char(c - 32) : c; }

bool same_name(const std::string& a, const std::string& b) {  // FAT names ignore case
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper(b[i])) return false;
  }
  return true;
}

struct ShortName {
  std::string sfn;  // 11 bytes
  bool lossy = false;
  bool needs_lfn = false;
};

// ff.c create_name(): the 8.3 form of a name, whether it lost anything (NS_LOSS) and whether
// a long name is needed (lossy, or upper and lower case mixed within body or extension).
ShortName make_short(const std::string& name) {
  ShortName out;
  size_t dot = name.rfind('.');
  bool has_ext = dot != std::string::npos && dot != 0;
  std::string body = has_ext ? name.substr(0, dot) : name;
  std::string ext = has_ext ? name.substr(dot + 1) : "";
  auto clean = [&](const std::string& part, size_t max, int* cases) {
    std::string s;
    for (char c : part) {
      if (c == '.' || c == ' ') {
        out.lossy = true;
        continue;
      }
      if (strchr("+,;=[]", c) || static_cast<unsigned char>(c) >= 0x80) {
        c = '_';
        out.lossy = true;
      }
      if (c >= 'a' && c <= 'z') *cases |= 1;
      if (c >= 'A' && c <= 'Z') *cases |= 2;
      if (s.size() < max) s += upper(c);
      else out.lossy = true;
    }
    return s;
  };
  int body_case = 0, ext_case = 0;
  std::string b = clean(body, 8, &body_case);
  std::string e = clean(ext, 3, &ext_case);
  if (b.empty()) out.lossy = true;
  out.needs_lfn = out.lossy || body_case == 3 || ext_case == 3;
  b.resize(8, ' ');
  e.resize(3, ' ');
  out.sfn = b + e;
  return out;
}

// ff.c gen_numname(): "NAME~N" for the first five tries, then a CRC of the long name.
std::string numbered_name(const std::string& sfn, const std::string& lfn, uint32_t seq) {
  if (seq > 5) {
    uint32_t sreg = seq;
    for (unsigned char ch : lfn) {
      uint32_t wc = ch;
      for (int i = 0; i < 16; ++i) {
        sreg = (sreg << 1) + (wc & 1);
        wc >>= 1;
        if (sreg & 0x10000) sreg ^= 0x11021;
      }
    }
    seq = sreg;
  }
  std::string tail;
  do {
    uint32_t d = seq % 16;
    tail.insert(tail.begin(), char(d < 10 ? '0' + d : 'A' + d - 10));
    seq /= 16;
  } while (seq);
  tail.insert(tail.begin(), '~');
  size_t body_len = sfn.find(' ');
  if (body_len == std::string::npos || body_len > 8) body_len = 8;
  size_t keep = body_len < 8 - tail.size() ? body_len : 8 - tail.size();
  std::string body = sfn.substr(0, keep) + tail;
  body.resize(8, ' ');
  return body + sfn.substr(8, 3);
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j;
  }
  return parts;
}

}  // namespace

size_t FatCard::entries_for_name(const std::string& name) {
  ShortName sn = make_short(name);
  return sn.needs_lfn ? 1 + (name.size() + 12) / 13 : 1;
}

FatCard::FatCard(uint64_t card_bytes, uint32_t cluster_bytes)
    : cluster_bytes_(cluster_bytes),
      sectors_per_cluster_(cluster_bytes / kSectorBytes),
      entries_per_cluster_(cluster_bytes / kEntryBytes),
      cluster_count_(uint32_t(card_bytes / cluster_bytes)) {
  heap_meter::Untracked untracked;
  uint64_t fat_sectors = (uint64_t(cluster_count_) + 2) * 4 / kSectorBytes + 1;
  data_base_ = fat_base_ + 2 * fat_sectors;  // two FAT copies
  used_.assign(size_t(cluster_count_) + 2, false);
  used_[0] = used_[1] = true;
  free_clusters_ = cluster_count_;
  nodes_.emplace_back(new Node());
  root_ = nodes_.back().get();
  root_->is_dir = true;
  alloc_cluster(*root_);  // the FAT32 root folder is a cluster chain like any other
  root_->slots.resize(entries_per_cluster_);
  sector_reads = sector_writes = 0;
}

FatCard::~FatCard() {
  heap_meter::Untracked untracked;
  handles_.clear();
  nodes_.clear();
}

void FatCard::remount() {
  heap_meter::Untracked untracked;
  handles_.clear();
  if (window_dirty_) ++sector_writes;
  window_dirty_ = false;
  window_ = UINT64_MAX;
  sector_reads += 3;  // MBR, volume boot record, FSINFO (find_volume)
  free_count_valid_ = fsinfo_free_known;
}

void FatCard::window(uint64_t sector) {
  if (sector == window_) return;
  if (window_dirty_) ++sector_writes;  // sync_window() before moving
  window_dirty_ = false;
  ++sector_reads;
  window_ = sector;
}

uint64_t FatCard::slot_sector(const Node& dir, size_t slot, size_t*) {
  size_t ci = slot / entries_per_cluster_;
  if (slot > 0 && slot % entries_per_cluster_ == 0) window(fat_sector(dir.clusters[ci - 1]));  // dir_next: get_fat
  uint64_t s = data_sector(dir.clusters[ci], uint32_t((slot % entries_per_cluster_) * kEntryBytes / kSectorBytes));
  window(s);
  return s;
}

bool FatCard::alloc_cluster(Node& node) {
  // create_chain(): next free cluster after the last one allocated, reading the FAT as it goes.
  if (free_clusters_ == 0) return false;
  uint32_t c = last_cluster_;
  for (uint32_t tries = 0; tries <= cluster_count_; ++tries) {
    c = c + 1 >= cluster_count_ + 2 ? 2 : c + 1;
    window(fat_sector(c));
    if (!used_[c]) break;
  }
  if (used_[c]) return false;
  used_[c] = true;
  dirty_window();
  if (!node.clusters.empty()) {
    window(fat_sector(node.clusters.back()));  // link the previous end of the chain
    dirty_window();
  }
  --free_clusters_;
  last_cluster_ = c;
  node.clusters.push_back(c);
  if (node.is_dir) {
    // dir_clear(): the new folder cluster is zeroed on the card; the window holds its first sector.
    if (window_dirty_) ++sector_writes;
    window_dirty_ = false;
    sector_writes += sectors_per_cluster_;
    window_ = data_sector(c, 0);
  }
  return true;
}

void FatCard::free_chain(Node& node) {
  for (uint32_t c : node.clusters) {  // remove_chain()
    window(fat_sector(c));
    dirty_window();
    used_[c] = false;
    ++free_clusters_;
  }
  node.clusters.clear();
}

FatCard::Node* FatCard::dir_find(Node& dir, const std::string& name, bool sfn_only) {
  ShortName want;
  if (!sfn_only) want = make_short(name);
  for (size_t i = 0; i < dir.slots.size(); ++i) {
    slot_sector(dir, i, nullptr);
    const Slot& s = dir.slots[i];
    if (s.state == Slot::Never) return nullptr;  // the end marker: nothing after it
    if (s.state != Slot::Used || !s.node) continue;
    if (sfn_only) {
      if (s.node->sfn == name) return s.node;
    } else if (same_name(s.node->name, name) || (!want.lossy && s.node->sfn == want.sfn)) {
      return s.node;
    }
  }
  return nullptr;
}

FatCard::Node* FatCard::follow_path(const std::string& path, Node** parent, std::string* leaf) {
  ++lookups;
  std::vector<std::string> parts = split(path);
  Node* cur = root_;
  if (parent) *parent = nullptr;
  if (parts.empty()) return root_;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    cur = dir_find(*cur, parts[i], false);
    if (!cur || !cur->is_dir) return nullptr;
  }
  if (parent) *parent = cur;
  if (leaf) *leaf = parts.back();
  return dir_find(*cur, parts.back(), false);
}

bool FatCard::dir_alloc(Node& dir, size_t count, size_t* first) {
  size_t run = 0;
  for (size_t i = 0;; ++i) {
    if (i >= kMaxDirEntries) return false;  // FR_DENIED: the folder is full
    if (i >= dir.slots.size()) {
      if (!alloc_cluster(dir)) return false;  // the card is full
      dir.slots.resize(dir.clusters.size() * entries_per_cluster_);
    }
    slot_sector(dir, i, nullptr);
    if (dir.slots[i].state != Slot::Used) {
      if (++run == count) {
        *first = i + 1 - count;
        return true;
      }
    } else {
      run = 0;
    }
  }
}

bool FatCard::dir_register(Node& dir, Node* node) {
  ShortName sn = make_short(node->name);
  std::string sfn = sn.sfn;
  if (sn.lossy) {
    uint32_t n = 1;
    for (; n < 100; ++n) {
      sfn = numbered_name(sn.sfn, node->name, n);
      if (!dir_find(dir, sfn, true)) break;
    }
    if (n == 100) return false;  // FR_DENIED: too many collisions
  }
  size_t count = sn.needs_lfn ? 1 + (node->name.size() + 12) / 13 : 1;
  size_t first;
  if (!dir_alloc(dir, count, &first)) return false;
  for (size_t k = first; k < first + count; ++k) {
    slot_sector(dir, k, nullptr);
    dir.slots[k].state = Slot::Used;
    dir.slots[k].node = nullptr;
    dirty_window();
  }
  dir.slots[first + count - 1].node = node;
  node->sfn = sfn;
  node->parent = &dir;
  node->first_slot = first;
  node->slot_count = count;
  return true;
}

void FatCard::dir_delete(Node* node) {
  Node& dir = *node->parent;
  for (size_t k = node->first_slot; k < node->first_slot + node->slot_count; ++k) {
    slot_sector(dir, k, nullptr);
    dir.slots[k].state = Slot::Deleted;  // 0xE5: a hole, never an end marker again
    dir.slots[k].node = nullptr;
    dirty_window();
  }
  node->parent = nullptr;
}

bool FatCard::vfs_open_read(const std::string& path, Node** out, bool via_fs_open) {
  if (vfs == Vfs::Arduino3x) {
    // VFSImpl::open: stat; a miss tries opendir and gives up. Then VFSFileImpl: stat, and
    // fopen for a file or opendir for a folder (exists() is VFSFileImpl alone).
    if (via_fs_open && !lookup(path)) {
      lookup(path);
      return false;
    }
    Node* st = lookup(path);
    lookup(path);
    *out = st;
    return st != nullptr;
  }
  Node* n = lookup(path);  // fopen -> f_open
  if (n && !n->is_dir) {
    *out = n;
    return true;
  }
  Node* st = lookup(path);  // stat -> f_stat
  if (!st || st->is_dir) st = lookup(path);  // opendir -> f_opendir
  *out = st;
  return st != nullptr;
}

void FatCard::count_data(Handle& h, uint64_t from, uint64_t to, bool writing) {
  if (to <= from) return;
  for (uint64_t s = from / kSectorBytes; s <= (to - 1) / kSectorBytes; ++s) {
    uint64_t byte = s * kSectorBytes;
    size_t ci = size_t(byte / cluster_bytes_);
    if (!writing && byte % cluster_bytes_ == 0 && ci > 0 && ci < h.node->clusters.size()) {
      window(fat_sector(h.node->clusters[ci - 1]));  // following the chain
    }
    if (s == h.buffered_sector) continue;
    if (writing) ++sector_writes;
    else ++sector_reads;
    h.buffered_sector = s;
  }
}

int FatCard::open(const char* path, OpenMode mode) {
  heap_meter::Untracked untracked;
  Node* node = nullptr;
  if (mode == OpenMode::Read) {
    if (!vfs_open_read(path, &node, true) || node->is_dir) return kNoFile;
  } else {
    if (vfs == Vfs::Arduino3x) {
      // VFSImpl::open: stat; on a miss opendir, then VFSFileImpl's stat (a miss again);
      // on a hit VFSFileImpl's stat. Then fopen(path, "w") below, and no stat after it.
      Node* st = lookup(path);
      lookup(path);
      if (!st) lookup(path);
    }
    Node* parent = nullptr;
    std::string leaf;
    node = follow_path(path, &parent, &leaf);  // fopen(path, "w") -> f_open(FA_CREATE_ALWAYS)
    if (node && node->is_dir) node = nullptr;
    else if (node) {
      free_chain(*node);  // truncated
      node->data.clear();
      slot_sector(*node->parent, node->first_slot + node->slot_count - 1, nullptr);
      dirty_window();
    } else if (parent && parent->is_dir) {
      nodes_.emplace_back(new Node());
      Node* fresh = nodes_.back().get();
      fresh->name = leaf;
      if (dir_register(*parent, fresh)) node = fresh;
    }
    if (vfs == Vfs::Newest) lookup(path);  // VFSFileImpl: stat() after fopen
    if (!node) return kNoFile;
  }
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (!handles_[i]) {
      handles_[i].reset(new Handle{node, 0, mode == OpenMode::Write, false, UINT64_MAX});
      return int(i);
    }
  }
  handles_.emplace_back(new Handle{node, 0, mode == OpenMode::Write, false, UINT64_MAX});
  return int(handles_.size() - 1);
}

int32_t FatCard::read(int fd, uint8_t* buf, size_t len) {
  heap_meter::Untracked untracked;
  if (fd < 0 || size_t(fd) >= handles_.size() || !handles_[fd]) return -1;
  Handle& h = *handles_[fd];
  if (!h.node->parent) return -1;  // removed while open
  uint64_t size = h.node->data.size();
  uint64_t n = h.pos >= size ? 0 : (size - h.pos < len ? size - h.pos : len);
  if (n == 0) return 0;
  count_data(h, h.pos, h.pos + n, false);
  memcpy(buf, h.node->data.data() + h.pos, size_t(n));
  h.pos += n;
  return int32_t(n);
}

int32_t FatCard::write(int fd, const uint8_t* buf, size_t len) {
  heap_meter::Untracked untracked;
  if (fd < 0 || size_t(fd) >= handles_.size() || !handles_[fd] || !handles_[fd]->writable) return -1;
  Handle& h = *handles_[fd];
  uint64_t end = h.pos + len;
  while (uint64_t(h.node->clusters.size()) * cluster_bytes_ < end) {
    if (!alloc_cluster(*h.node)) break;  // disk full: f_write stops short
  }
  uint64_t room = uint64_t(h.node->clusters.size()) * cluster_bytes_;
  if (room < end) end = room;
  if (end <= h.pos) return -1;
  size_t n = size_t(end - h.pos);
  if (h.node->data.size() < end) h.node->data.resize(size_t(end));
  memcpy(h.node->data.data() + h.pos, buf, n);
  count_data(h, h.pos, end, true);
  h.pos = end;
  h.modified = true;
  return int32_t(n);
}

bool FatCard::flush(int fd) {
  heap_meter::Untracked untracked;
  if (fd < 0 || size_t(fd) >= handles_.size() || !handles_[fd]) return false;
  Handle& h = *handles_[fd];
  if (!h.modified || !h.node->parent) return true;
  // f_sync(): the partial data sector, the directory entry (size, first cluster), FSINFO.
  ++sector_writes;
  slot_sector(*h.node->parent, h.node->first_slot + h.node->slot_count - 1, nullptr);
  dirty_window();
  ++sector_writes;
  window_dirty_ = false;
  ++sector_writes;
  h.modified = false;
  return true;
}

bool FatCard::close(int fd) {
  heap_meter::Untracked untracked;
  if (fd < 0 || size_t(fd) >= handles_.size() || !handles_[fd]) return false;
  bool ok = flush(fd);
  handles_[fd].reset();
  return ok;
}

bool FatCard::exists(const char* path) {
  heap_meter::Untracked untracked;
  Node* n;
  return vfs_open_read(path, &n, false);
}

int64_t FatCard::open_size(int fd) {
  if (fd < 0 || size_t(fd) >= handles_.size() || !handles_[size_t(fd)]) return -1;
  const Handle& h = *handles_[size_t(fd)];
  if (h.modified) return -1;  // a written file's size() stats again: the caller asks file_size()
  return int64_t(h.node->data.size());
}

int64_t FatCard::file_size(const char* path) {
  heap_meter::Untracked untracked;
  Node* n;
  if (!vfs_open_read(path, &n, true) || n->is_dir) return -1;
  return int64_t(n->data.size());
}

bool FatCard::remove(const char* path) {
  heap_meter::Untracked untracked;
  if (vfs == Vfs::Arduino3x) {  // VFSFileImpl(path, "r") first: stat + fopen
    Node* f;
    if (!vfs_open_read(path, &f, false) || f->is_dir) return false;
  }
  Node* n = follow_path(path, nullptr, nullptr);  // unlink -> f_unlink
  if (!n || n->is_dir) return false;
  dir_delete(n);
  free_chain(*n);
  return true;
}

bool FatCard::rename(const char* from, const char* to) {
  heap_meter::Untracked untracked;
  if (vfs == Vfs::Arduino3x) {  // exists(from) first
    Node* f;
    if (!vfs_open_read(from, &f, false)) return false;
  }
  Node* n = follow_path(from, nullptr, nullptr);  // f_rename: the old name...
  if (!n) return false;
  Node* parent = nullptr;
  std::string leaf;
  if (follow_path(to, &parent, &leaf)) return false;  // ...and the new one: FR_EXIST
  if (!parent || !parent->is_dir) return false;
  Node* old_parent = n->parent;
  size_t old_first = n->first_slot, old_count = n->slot_count;
  std::string old_name = n->name, old_sfn = n->sfn;
  n->name = leaf;
  if (!dir_register(*parent, n)) {
    n->name = old_name;
    n->sfn = old_sfn;
    n->parent = old_parent;
    n->first_slot = old_first;
    n->slot_count = old_count;
    return false;
  }
  Node ghost;  // the old entries go after the new ones are written
  ghost.parent = old_parent;
  ghost.first_slot = old_first;
  ghost.slot_count = old_count;
  dir_delete(&ghost);
  return true;
}

bool FatCard::make_dir(const char* path) {
  heap_meter::Untracked untracked;
  Node* n = follow_path(path, nullptr, nullptr);  // VFSImpl::mkdir: stat
  if (n) return n->is_dir;
  follow_path(path, nullptr, nullptr);  // opendir
  Node* parent = nullptr;
  std::string leaf;
  if (follow_path(path, &parent, &leaf) || !parent) return false;  // f_mkdir
  nodes_.emplace_back(new Node());
  Node* dir = nodes_.back().get();
  dir->is_dir = true;
  dir->name = leaf;
  if (!alloc_cluster(*dir)) return false;
  dir->slots.resize(entries_per_cluster_);
  dir->slots[0].state = dir->slots[1].state = Slot::Used;  // "." and ".."
  if (!dir_register(*parent, dir)) {
    free_chain(*dir);
    return false;
  }
  return true;
}

bool FatCard::remove_dir(const char* path) {
  heap_meter::Untracked untracked;
  if (vfs == Vfs::Arduino3x) {  // VFSFileImpl(path, "r") first: stat + opendir
    Node* d;
    if (!vfs_open_read(path, &d, false) || !d->is_dir) return false;
  }
  Node* n = follow_path(path, nullptr, nullptr);  // rmdir -> f_unlink
  if (!n || !n->is_dir || n == root_) return false;
  for (size_t i = 2; i < n->slots.size(); ++i) {  // dir_read(): is anything left?
    slot_sector(*n, i, nullptr);
    if (n->slots[i].state == Slot::Never) break;
    if (n->slots[i].state == Slot::Used && n->slots[i].node) return false;  // FR_DENIED
  }
  dir_delete(n);
  free_chain(*n);
  return true;
}

bool FatCard::list_dir(const char* dir, lifelog::DirVisitor& visitor) {
  heap_meter::Untracked untracked;
  Node* d;
  if (!vfs_open_read(dir, &d, true) || !d->is_dir) return false;  // SD.open(dir)
  std::string prefix = std::string(dir) == "/" ? "/" : std::string(dir) + "/";
  for (size_t i = 0; i < d->slots.size(); ++i) {
    slot_sector(*d, i, nullptr);  // readdir -> f_readdir, in order
    const Slot& s = d->slots[i];
    if (s.state == Slot::Never) break;
    if (s.state != Slot::Used || !s.node) continue;
    std::string name = s.node->name;
    bool is_dir = s.node->is_dir;
    if (listing == Listing::OpenNextFile) {
      Node* ignored;
      vfs_open_read(prefix + name, &ignored, false);  // openNextFile(): a VFSFileImpl by path
    }
    if (!visitor.on_entry(name.c_str(), is_dir)) break;
  }
  return true;
}

uint64_t FatCard::free_bytes() {
  // SD.totalBytes()/usedBytes(): f_getfree() from the count FatFs keeps (FSINFO); when the
  // card's FSINFO said "unknown", the first call after mount counts free links in every FAT sector.
  if (!free_count_valid_) {
    heap_meter::Untracked untracked;
    for (uint64_t s = fat_sector(0); s <= fat_sector(cluster_count_ + 1); ++s) window(s);
    free_count_valid_ = true;
  }
  return uint64_t(free_clusters_) * cluster_bytes_;
}

size_t FatCard::scanned_entries(const char* dir) {
  heap_meter::Untracked untracked;
  uint64_t r = sector_reads, w = sector_writes, l = lookups, win = window_;
  bool dirty = window_dirty_;
  Node* d = follow_path(dir, nullptr, nullptr);
  sector_reads = r;
  sector_writes = w;
  lookups = l;
  window_ = win;
  window_dirty_ = dirty;
  if (!d || !d->is_dir) return 0;
  size_t n = 0;
  while (n < d->slots.size() && d->slots[n].state != Slot::Never) ++n;
  return n;
}

bool FatCard::preload(const char* dir, size_t count, const char* pattern) {
  heap_meter::Untracked untracked;
  Node* d = follow_path(dir, nullptr, nullptr);
  if (!d || !d->is_dir) return false;
  uint64_t r = sector_reads, w = sector_writes, l = lookups;
  size_t next = 0;  // entries are appended in order, as dir_alloc() would place them
  while (next < d->slots.size() && d->slots[next].state != Slot::Never) ++next;
  bool ok = true;
  std::set<std::string> sfns;
  for (size_t k = 0; k < next; ++k) {
    if (d->slots[k].node) sfns.insert(d->slots[k].node->sfn);
  }
  for (size_t i = 0; i < count && ok; ++i) {
    char name[64];
    snprintf(name, sizeof(name), pattern, static_cast<unsigned long>(i));
    nodes_.emplace_back(new Node());
    Node* f = nodes_.back().get();
    f->name = name;
    ShortName sn = make_short(f->name);
    f->sfn = sn.sfn;
    for (uint32_t n = 1; sn.lossy && n < 100; ++n) {  // as dir_register() numbers them
      f->sfn = numbered_name(sn.sfn, f->name, n);
      if (!sfns.count(f->sfn)) break;
    }
    sfns.insert(f->sfn);
    size_t need = sn.needs_lfn ? 1 + (f->name.size() + 12) / 13 : 1;
    while (next + need > d->slots.size()) {
      if (d->slots.size() + entries_per_cluster_ > kMaxDirEntries || !alloc_cluster(*d)) {
        ok = false;
        break;
      }
      d->slots.resize(d->clusters.size() * entries_per_cluster_);
    }
    if (!ok) break;
    for (size_t k = next; k < next + need; ++k) d->slots[k].state = Slot::Used;
    d->slots[next + need - 1].node = f;
    f->parent = d;
    f->first_slot = next;
    f->slot_count = need;
    next += need;
  }
  sector_reads = r;
  sector_writes = w;
  lookups = l;
  window_ = UINT64_MAX;
  window_dirty_ = false;
  return ok;
}
