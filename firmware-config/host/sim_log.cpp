#include "sim_log.h"

#include <cstdio>
#include <cstdlib>

#include "lifelog/json.h"

using namespace lifelog;

void Log::event(const char* name, std::initializer_list<std::pair<const char*, std::string>> fields) {
  if (json_) {
    JsonDoc doc(cJSON_CreateObject());
    cJSON_AddStringToObject(doc.get(), "event", name);
    cJSON_AddNumberToObject(doc.get(), "t_ms", double(clock_.monotonic_ms()));
    for (const auto& f : fields) {
      const std::string& v = f.second;
      if (!v.empty() && v[0] == '#') {
        cJSON_AddNumberToObject(doc.get(), f.first, strtod(v.c_str() + 1, nullptr));
      } else if (!v.empty() && v[0] == '?') {
        cJSON_AddBoolToObject(doc.get(), f.first, v == "?true");
      } else {
        cJSON_AddStringToObject(doc.get(), f.first, v.c_str());
      }
    }
    char* text = cJSON_PrintUnformatted(doc.get());
    if (text) {
      printf("%s\n", text);
      cJSON_free(text);
    }
  } else {
    printf("[%8llu ms] %-12s", static_cast<unsigned long long>(clock_.monotonic_ms()), name);
    for (const auto& f : fields) {
      const std::string& v = f.second;
      printf(" %s=%s", f.first, (!v.empty() && (v[0] == '#' || v[0] == '?')) ? v.c_str() + 1 : v.c_str());
    }
    printf("\n");
  }
  fflush(stdout);
}

std::string num(uint64_t v) { return "#" + std::to_string(v); }
std::string boolean(bool v) { return v ? "?true" : "?false"; }

void LoggingObserver::on_upload_event(const UploadEvent& e) {
  const char* name = upload_event_name(e.kind);
  if (e.kind == UploadEventKind::Retry) {
    log_.event(name, {{"seq", num(e.seq)}, {"frame", num(e.frame)}, {"step", e.step},
                      {"status", num(uint64_t(e.http_status))}, {"code", e.code}, {"delay_ms", num(e.delay_ms)}});
    log_.event("backoff", {{"seq", num(e.seq)}, {"delay_ms", num(e.delay_ms)}});
  } else {
    log_.event(name, {{"seq", num(e.seq)}, {"frame", num(e.frame)}, {"step", e.step},
                      {"status", num(uint64_t(e.http_status))}, {"code", e.code}, {"bytes", num(e.bytes)}});
  }
}

void write_status(const SimOptions& o, const char* state, CaptureQueue* q, uint32_t frames) {
  if (o.status_file.empty()) return;
  JsonDoc doc(cJSON_CreateObject());
  cJSON_AddStringToObject(doc.get(), "state", state);
  cJSON_AddNumberToObject(doc.get(), "frames_captured", frames);
  if (q) {
    cJSON_AddNumberToObject(doc.get(), "pending", q->pending_count());
    cJSON_AddNumberToObject(doc.get(), "failed", q->failed_count());
    cJSON_AddNumberToObject(doc.get(), "dropped", q->dropped());
  }
  char* text = cJSON_PrintUnformatted(doc.get());
  if (!text) return;
  std::string tmp = o.status_file + ".tmp";
  FILE* f = fopen(tmp.c_str(), "w");
  if (f) {
    fprintf(f, "%s\n", text);
    fclose(f);
    rename(tmp.c_str(), o.status_file.c_str());
  }
  cJSON_free(text);
}
