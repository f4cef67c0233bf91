#include "host_cameras.h"

#include <dirent.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

bool SyntheticJpegCamera::capture(uint32_t frame, lifelog::FrameSink& sink) {
  uint64_t size = frame_size(frame, size_, size_max_);
  uint64_t total = size < kMinSize ? kMinSize : size;
  uint8_t head[112];
  size_t n = 0;
  auto put = [&](std::initializer_list<uint8_t> bytes) {
    for (uint8_t b : bytes) head[n++] = b;
  };
  put({0xFF, 0xD8});                                                                 // SOI
  put({0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0});  // APP0
  char comment[40];
  int clen = snprintf(comment, sizeof(comment), "lifelog-sim frame=%08u", unsigned(frame));
  put({0xFF, 0xFE, 0x00, uint8_t(clen + 2)});
  memcpy(head + n, comment, size_t(clen));
  n += size_t(clen);
  put({0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0xF0, 0x01, 0x40, 0x03,  // SOF0 320x240, 3 components
       0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01});
  put({0xFF, 0xDA, 0x00, 0x0C, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3F, 0x00});  // SOS
  if (!sink.write(head, n)) return false;
  uint64_t scan = total - n - 2;
  uint32_t x = (seed_ ^ (frame * 0x9E3779B9u)) | 1;
  uint8_t piece[4096];
  while (scan > 0) {
    size_t take = scan < sizeof(piece) ? size_t(scan) : sizeof(piece);
    for (size_t i = 0; i < take; ++i) {
      x ^= x << 13;
      x ^= x >> 17;
      x ^= x << 5;
      uint8_t b = uint8_t(x >> 24);
      piece[i] = b == 0xFF ? 0xFE : b;  // no markers inside the scan
    }
    if (!sink.write(piece, take)) return false;
    scan -= take;
  }
  const uint8_t eoi[2] = {0xFF, 0xD9};
  return sink.write(eoi, 2);
}

FixtureCamera::FixtureCamera(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return char(tolower(c)); });
    if ((lower.size() > 4 && lower.compare(lower.size() - 4, 4, ".jpg") == 0) ||
        (lower.size() > 5 && lower.compare(lower.size() - 5, 5, ".jpeg") == 0)) {
      files_.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  std::sort(files_.begin(), files_.end());
}

bool FixtureCamera::capture(uint32_t frame, lifelog::FrameSink& sink) {
  if (files_.empty()) return false;
  FILE* f = fopen(files_[frame % files_.size()].c_str(), "rb");
  if (!f) return false;
  uint8_t piece[4096];
  bool ok = true;
  size_t n;
  while (ok && (n = fread(piece, 1, sizeof(piece), f)) > 0) ok = sink.write(piece, n);
  if (ferror(f)) ok = false;
  fclose(f);
  return ok;
}
