#pragma once
// lifelog::Camera for the XIAO ESP32S3 Sense (CAMERA_MODEL_XIAO_ESP32S3 pins). The sensor is
// detected, not assumed: boards ship with an OV2640 or, since 2024, an OV3660.
#include <esp_camera.h>

#include "lifelog_core.h"

struct CameraSettings {
  const char* frame_size = "UXGA";  // a name from frame_size_from_name()
  int jpeg_quality = 12;            // 4..63, lower is better
};

// "UXGA" -> FRAMESIZE_UXGA; false for an unknown name.
bool frame_size_from_name(const char* name, framesize_t* out);
// Largest frame the detected sensor delivers (its PID from esp_camera_sensor_get()).
framesize_t sensor_max_frame_size(uint16_t pid);
const char* sensor_name(uint16_t pid);

class XiaoCamera : public lifelog::Camera {
 public:
  bool begin(const CameraSettings& settings);
  // One JPEG into the sink, then the frame buffer goes straight back to the driver, so no
  // buffer is ever held across captures (one owner per buffer).
  bool capture(uint32_t frame, lifelog::FrameSink& sink) override;
  bool ready() const { return ready_; }
  uint16_t sensor_pid() const { return pid_; }

 private:
  bool init_driver();
  void apply_sensor_settings();
  CameraSettings settings_;
  bool ready_ = false;
  uint16_t pid_ = 0;
  uint32_t failures_in_row_ = 0;
};
