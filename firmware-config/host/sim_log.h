#pragma once
// sim-camera's output: one line per event (JSON with --log-json) and the --status-file.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "lifelog/capture_queue.h"
#include "lifelog/clock.h"
#include "lifelog/uploader.h"
#include "sim_options.h"

// Progress lines. The token is never passed in here.
class Log {
 public:
  Log(bool json, lifelog::Clock& clock) : json_(json), clock_(clock) {}

  // fields: alternating key, value; values starting with '#' are numbers, '?' booleans.
  void event(const char* name, std::initializer_list<std::pair<const char*, std::string>> fields);

 private:
  bool json_;
  lifelog::Clock& clock_;
};

// Field values for Log::event: a number, a boolean.
std::string num(uint64_t v);
std::string boolean(bool v);

class LoggingObserver : public lifelog::UploadObserver {
 public:
  explicit LoggingObserver(Log& log) : log_(log) {}
  void on_upload_event(const lifelog::UploadEvent& e) override;

 private:
  Log& log_;
};

// The current state as JSON, written atomically (tmp + rename), when --status-file is given.
void write_status(const SimOptions& o, const char* state, lifelog::CaptureQueue* q, uint32_t frames);
