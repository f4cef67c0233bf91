#include "lifelog/manifest.h"

#include <cstdio>
#include <cstring>

#include "lifelog/json.h"

namespace lifelog {

const char* state_name(RecordState s) {
  switch (s) {
    case RecordState::Pending: return "PENDING";
    case RecordState::Uploaded: return "UPLOADED";
    case RecordState::Failed: return "FAILED";
  }
  return "PENDING";
}

static bool state_from_name(const char* name, RecordState* out) {
  if (!name) return false;
  if (strcmp(name, "PENDING") == 0) { *out = RecordState::Pending; return true; }
  if (strcmp(name, "UPLOADED") == 0) { *out = RecordState::Uploaded; return true; }
  if (strcmp(name, "FAILED") == 0) { *out = RecordState::Failed; return true; }
  return false;
}

size_t manifest_to_json(const ManifestRecord& rec, char* out, size_t cap) {
  JsonDoc doc(cJSON_CreateObject());
  cJSON* o = doc.get();
  if (!o) return 0;
  // Numbers are stored as doubles by cJSON: exact up to 2^53, far beyond what we store.
  cJSON_AddNumberToObject(o, "seq", rec.seq);
  cJSON_AddNumberToObject(o, "frame", rec.frame);
  cJSON_AddStringToObject(o, "state", state_name(rec.state));
  cJSON_AddNumberToObject(o, "size", double(rec.size));
  cJSON_AddStringToObject(o, "sha256", rec.sha256);
  cJSON_AddNumberToObject(o, "wall_s", double(rec.stamp.wall_s));
  cJSON_AddNumberToObject(o, "mono_ms", double(rec.stamp.mono_ms));
  cJSON_AddNumberToObject(o, "boot_id", rec.stamp.boot_id);
  cJSON_AddBoolToObject(o, "ntp_synced", rec.stamp.ntp_synced);
  cJSON_AddBoolToObject(o, "time_corrected", rec.stamp.time_corrected);
  if (rec.object_key[0]) cJSON_AddStringToObject(o, "object_key", rec.object_key);
  if (rec.reason[0]) cJSON_AddStringToObject(o, "reason", rec.reason);
  if (cap < 2 || !cJSON_PrintPreallocated(o, out, int(cap - 1), 0)) return 0;
  size_t n = strlen(out);
  if (n + 2 > cap) return 0;
  out[n++] = '\n';
  out[n] = '\0';
  return n;
}

bool manifest_from_json(const char* text, size_t len, ManifestRecord* out) {
  JsonDoc doc(cJSON_ParseWithLength(text, len));
  const cJSON* o = doc.get();
  if (!cJSON_IsObject(o)) return false;
  ManifestRecord r;
  double seq, frame, size, wall, mono, boot;
  if (!json_number(o, "seq", &seq) || !json_number(o, "frame", &frame) || !json_number(o, "size", &size) ||
      !json_number(o, "wall_s", &wall) || !json_number(o, "mono_ms", &mono) ||
      !json_number(o, "boot_id", &boot)) {
    return false;
  }
  if (seq < 0 || seq > 4294967295.0 || frame < 0 || frame > 4294967295.0 || size < 0 || mono < 0 ||
      boot < 0 || boot > 4294967295.0) {
    return false;
  }
  if (!state_from_name(json_string(o, "state"), &r.state)) return false;
  if (!json_bool(o, "ntp_synced", &r.stamp.ntp_synced) ||
      !json_bool(o, "time_corrected", &r.stamp.time_corrected)) {
    return false;
  }
  if (!copy_bounded(r.sha256, sizeof(r.sha256), json_string(o, "sha256"))) return false;
  const char* key = json_string(o, "object_key");
  if (key && !copy_bounded(r.object_key, sizeof(r.object_key), key)) return false;
  if (r.state == RecordState::Uploaded && !r.object_key[0]) return false;
  const char* reason = json_string(o, "reason");
  if (reason && !copy_bounded(r.reason, sizeof(r.reason), reason)) return false;
  r.seq = uint32_t(seq);
  r.frame = uint32_t(frame);
  r.size = uint64_t(size);
  r.stamp.wall_s = int64_t(wall);
  r.stamp.mono_ms = uint64_t(mono);
  r.stamp.boot_id = uint32_t(boot);
  *out = r;
  return true;
}

bool manifest_text_valid(const char* text, size_t len) {
  ManifestRecord scratch;
  return manifest_from_json(text, len, &scratch);
}

}  // namespace lifelog
