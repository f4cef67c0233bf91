// DECLARATIONS ONLY (arduino-esp32 libraries/FS/src/FS.h); see README.md.
#pragma once
#include "Arduino.h"

#define FILE_READ "r"
#define FILE_WRITE "w"

namespace fs {
class File : public Stream {
 public:
  File();
  size_t write(uint8_t) override;
  size_t write(const uint8_t* buf, size_t size) override;
  int available() override;
  int read() override;
  int peek() override;
  size_t read(uint8_t* buf, size_t size);
  void flush();
  size_t size() const;
  void close();
  operator bool() const;
  const char* name() const;
  bool isDirectory(void);
  File openNextFile(const char* mode = FILE_READ);
  // libraries/FS/src/FS.h (3.x): the next entry's path without opening it (the cheap listing).
  String getNextFileName(void);
  String getNextFileName(bool* isDir);
  void rewindDirectory(void);
};

class FS {
 public:
  File open(const char* path, const char* mode = FILE_READ, const bool create = false);
  bool exists(const char* path);
  bool remove(const char* path);
  bool rename(const char* pathFrom, const char* pathTo);
  bool mkdir(const char* path);
  bool rmdir(const char* path);
};
}  // namespace fs
using namespace fs;
