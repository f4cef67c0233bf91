#include "lifelog/atomic_file.h"

#include <cstdio>
#include <cstring>

namespace lifelog {

bool tmp_path_for(const char* path, char* out, size_t cap) {
  // "x.jsn" -> "x.tmp": an 8.3 name stays 8.3 (one directory entry; "x.jsn.tmp" would take
  // three and a numbered short name, see tests/support/fat_card.h).
  const char* slash = strrchr(path, '/');
  const char* dot = strrchr(slash ? slash : path, '.');
  size_t stem = dot ? size_t(dot - path) : strlen(path);
  if (dot && strcmp(dot, ".tmp") == 0) return false;  // a tmp has no tmp of its own
  int n = snprintf(out, cap, "%.*s.tmp", int(stem), path);
  return n > 0 && size_t(n) < cap;
}

static bool write_all(FileSystem& fs, int fd, const char* data, size_t len) {
  while (len > 0) {
    int32_t n = fs.write(fd, reinterpret_cast<const uint8_t*>(data), len);
    if (n <= 0) return false;
    data += n;
    len -= size_t(n);
  }
  return true;
}

bool write_file_replacing(FileSystem& fs, const char* path, const char* data, size_t len) {
  char tmp[kMaxPathLen];
  if (!tmp_path_for(path, tmp, sizeof(tmp))) return false;
  {  // Opening for writing truncates a tmp left by an earlier cut.
    ScopedFile f(fs, tmp, OpenMode::Write);
    if (!f.ok()) return false;
    if (!write_all(fs, f.fd(), data, len) || !fs.flush(f.fd())) {
      f.close();
      fs.remove(tmp);
      return false;
    }
    if (!f.close()) {
      fs.remove(tmp);
      return false;
    }
  }
  // From here a cut leaves a complete tmp, which recover_file() promotes if the target is gone.
  // remove() of a missing target fails harmlessly; one the card keeps makes rename() fail.
  fs.remove(path);
  return fs.rename(tmp, path);
}

ReadStatus read_small_file(FileSystem& fs, const char* path, char* buf, size_t cap, size_t* len) {
  *len = 0;
  if (cap == 0) return ReadStatus::TooLarge;
  ScopedFile f(fs, path, OpenMode::Read);
  if (!f.ok()) return fs.exists(path) ? ReadStatus::IoError : ReadStatus::Missing;
  size_t used = 0;
  for (;;) {
    if (used == cap - 1) {
      uint8_t probe;
      int32_t extra = fs.read(f.fd(), &probe, 1);
      if (extra < 0) return ReadStatus::IoError;
      if (extra > 0) return ReadStatus::TooLarge;
      break;
    }
    int32_t n = fs.read(f.fd(), reinterpret_cast<uint8_t*>(buf) + used, cap - 1 - used);
    if (n < 0) return ReadStatus::IoError;
    if (n == 0) break;
    used += size_t(n);
  }
  buf[used] = '\0';
  *len = used;
  // Some cards report a read error as the end of the file: only the whole file counts.
  int64_t size = fs.open_size(f.fd());
  f.close();
  if (size < 0) size = fs.file_size(path);
  return size == int64_t(used) ? ReadStatus::Ok : ReadStatus::IoError;
}

static bool file_is_valid(FileSystem& fs, const char* path, ContentValidator valid, char* scratch,
                          size_t cap) {
  size_t len = 0;
  if (read_small_file(fs, path, scratch, cap, &len) != ReadStatus::Ok) return false;
  return valid(scratch, len);
}

Recovery recover_file(FileSystem& fs, const char* path, ContentValidator valid, char* scratch,
                      size_t scratch_cap) {
  char tmp[kMaxPathLen];
  if (!tmp_path_for(path, tmp, sizeof(tmp))) return Recovery::Clean;
  bool has_tmp = fs.exists(tmp);
  bool has_target = fs.exists(path);
  if (has_target && !file_is_valid(fs, path, valid, scratch, scratch_cap)) {
    fs.remove(path);
    has_target = false;
    if (!has_tmp) return Recovery::DroppedCorrupt;
  }
  if (!has_tmp) return Recovery::Clean;
  if (has_target) {
    // The cut came before the old file was removed: the old state wins.
    fs.remove(tmp);
    return Recovery::DroppedTmp;
  }
  if (file_is_valid(fs, tmp, valid, scratch, scratch_cap) && fs.rename(tmp, path)) {
    return Recovery::PromotedTmp;
  }
  fs.remove(tmp);
  return Recovery::DroppedTmp;
}

}  // namespace lifelog
