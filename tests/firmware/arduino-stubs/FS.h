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
  // arduino-esp32 3.x FS.h / vfs_api.cpp: readdir only, "" at the end; isDir from d_type.
  String getNextFileName(void);
  String getNextFileName(bool* isDir);
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
