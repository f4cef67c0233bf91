#pragma once
#include <cstddef>
#include <cstdint>

#include "file_system.h"

namespace lifelog {

// Small-file replacement that survives a power cut on FAT (no atomic rename-over):
//   write the tmp ("<dir>/<stem>.tmp"), flush, close, remove "<path>", rename tmp -> path.
// Two files that differ only in their extension must not both be written this way.
// A reader then sees either the old or the new content once recover_file() has run.

constexpr size_t kMaxPathLen = 96;
using ContentValidator = bool (*)(const char* data, size_t len);

bool tmp_path_for(const char* path, char* out, size_t cap);
bool write_file_replacing(FileSystem& fs, const char* path, const char* data, size_t len);

enum class ReadStatus : uint8_t { Ok, Missing, TooLarge, IoError };
// Reads a whole small file into buf (NUL-terminated, so cap must exceed the file size).
// Fewer bytes than file_size() reports is an IoError, never a shorter file.
ReadStatus read_small_file(FileSystem& fs, const char* path, char* buf, size_t cap, size_t* len);

enum class Recovery : uint8_t { Clean, DroppedTmp, PromotedTmp, DroppedCorrupt };
// Settles one path after a possible cut. Uses scratch to read candidates. A target that
// fails validation is removed (it can only be a file someone else damaged).
Recovery recover_file(FileSystem& fs, const char* path, ContentValidator valid, char* scratch,
                      size_t scratch_cap);

}  // namespace lifelog
