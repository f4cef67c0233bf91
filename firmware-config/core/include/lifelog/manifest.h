#pragma once
#include <cstddef>
#include <cstdint>

#include "capture_time.h"
#include "sha256.h"

namespace lifelog {

enum class RecordState : uint8_t {
  Pending,   // on the card, not yet in storage
  Uploaded,  // bytes are in storage under object_key; ingest still owed
  Failed,    // refused for good by the server; kept aside, never retried
};

constexpr size_t kObjectKeyCap = 256;
constexpr size_t kReasonCap = 96;
constexpr size_t kManifestMaxBytes = 1024;

struct ManifestRecord {
  uint32_t seq = 0;
  uint32_t frame = 0;  // camera capture index, lets a restart resume counting exactly
  RecordState state = RecordState::Pending;
  uint64_t size = 0;
  char sha256[Sha256::kHexSize] = {};
  CaptureStamp stamp;
  char object_key[kObjectKeyCap] = {};
  char reason[kReasonCap] = {};
};

const char* state_name(RecordState s);
// Serialised JSON (one line, '\n'-terminated) into out; returns its length or 0 if it does not fit.
size_t manifest_to_json(const ManifestRecord& rec, char* out, size_t cap);
bool manifest_from_json(const char* text, size_t len, ManifestRecord* out);
// Validator for recover_file(): the bytes form one complete record.
bool manifest_text_valid(const char* text, size_t len);

}  // namespace lifelog
