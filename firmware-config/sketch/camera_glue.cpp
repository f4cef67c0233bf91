#include "camera_glue.h"

#include <Arduino.h>

#include <cstring>

namespace {

struct NamedFrameSize {
  const char* name;
  framesize_t size;
};

const NamedFrameSize kFrameSizes[] = {
    {"QXGA", FRAMESIZE_QXGA}, {"UXGA", FRAMESIZE_UXGA}, {"SXGA", FRAMESIZE_SXGA}, {"HD", FRAMESIZE_HD},
    {"XGA", FRAMESIZE_XGA},   {"SVGA", FRAMESIZE_SVGA}, {"VGA", FRAMESIZE_VGA},   {"CIF", FRAMESIZE_CIF},
    {"QVGA", FRAMESIZE_QVGA},
};

constexpr uint32_t kFailuresBeforeReinit = 3;

camera_config_t xiao_esp32s3_config(framesize_t frame_size, int jpeg_quality) {
  camera_config_t c = {};
  c.pin_pwdn = -1;
  c.pin_reset = -1;
  c.pin_xclk = 10;
  c.pin_sccb_sda = 40;
  c.pin_sccb_scl = 39;
  c.pin_d7 = 48;  // Y9
  c.pin_d6 = 11;  // Y8
  c.pin_d5 = 12;  // Y7
  c.pin_d4 = 14;  // Y6
  c.pin_d3 = 16;  // Y5
  c.pin_d2 = 18;  // Y4
  c.pin_d1 = 17;  // Y3
  c.pin_d0 = 15;  // Y2
  c.pin_vsync = 38;
  c.pin_href = 47;
  c.pin_pclk = 13;
  c.xclk_freq_hz = 20000000;
  c.ledc_timer = LEDC_TIMER_0;
  c.ledc_channel = LEDC_CHANNEL_0;
  c.pixel_format = PIXFORMAT_JPEG;
  c.frame_size = frame_size;  // sizes the PSRAM buffers; the driver caps it to the sensor
  c.jpeg_quality = jpeg_quality;
  c.fb_count = 2;                       // GRAB_LATEST needs >= 2 or frames after idle are stale
  c.fb_location = CAMERA_FB_IN_PSRAM;   // needs the OPI PSRAM build option
  c.grab_mode = CAMERA_GRAB_LATEST;
  return c;
}

}  // namespace

bool frame_size_from_name(const char* name, framesize_t* out) {
  for (const NamedFrameSize& f : kFrameSizes) {
    if (strcmp(f.name, name) == 0) {
      *out = f.size;
      return true;
    }
  }
  return false;
}

framesize_t sensor_max_frame_size(uint16_t pid) {
  switch (pid) {
    case OV3660_PID: return FRAMESIZE_QXGA;
    case OV5640_PID: return FRAMESIZE_QSXGA;
    default: return FRAMESIZE_UXGA;  // OV2640 and anything unknown
  }
}

const char* sensor_name(uint16_t pid) {
  switch (pid) {
    case OV2640_PID: return "OV2640";
    case OV3660_PID: return "OV3660";
    case OV5640_PID: return "OV5640";
    default: return "unknown";
  }
}

bool XiaoCamera::begin(const CameraSettings& settings) {
  settings_ = settings;
  return init_driver();
}

bool XiaoCamera::init_driver() {
  framesize_t wanted = FRAMESIZE_UXGA;
  if (!frame_size_from_name(settings_.frame_size, &wanted)) wanted = FRAMESIZE_UXGA;
  camera_config_t config = xiao_esp32s3_config(wanted, settings_.jpeg_quality);
  if (esp_camera_init(&config) != ESP_OK) {
    ready_ = false;
    return false;
  }
  apply_sensor_settings();
  ready_ = true;
  failures_in_row_ = 0;
  return true;
}

void XiaoCamera::apply_sensor_settings() {
  sensor_t* s = esp_camera_sensor_get();
  if (!s) return;
  pid_ = s->id.PID;
  framesize_t wanted = FRAMESIZE_UXGA;
  frame_size_from_name(settings_.frame_size, &wanted);
  framesize_t max = sensor_max_frame_size(pid_);
  s->set_framesize(s, wanted > max ? max : wanted);
  s->set_quality(s, settings_.jpeg_quality);
  if (pid_ == OV3660_PID) {
    // The OV3660 delivers frames upside down and oversaturated with the driver defaults.
    s->set_vflip(s, 1);
    s->set_brightness(s, 1);
    s->set_saturation(s, -2);
  }
  Serial.printf("[camera] sensor %s (PID 0x%04x)\n", sensor_name(pid_), unsigned(pid_));
}

bool XiaoCamera::capture(uint32_t, lifelog::FrameSink& sink) {
  if (!ready_ && !init_driver()) return false;
  // esp_camera_fb_get has its own timeout in current esp32-camera releases; a rare hang under
  // GRAB_LATEST is caught by the task watchdog that DeviceApp arms around loop().
  camera_fb_t* fb = esp_camera_fb_get();
  if (!fb) {
    if (++failures_in_row_ >= kFailuresBeforeReinit) {
      esp_camera_deinit();
      ready_ = false;  // the next capture re-initialises the driver
    }
    return false;
  }
  bool ok = fb->format == PIXFORMAT_JPEG && fb->len > 0 && sink.write(fb->buf, fb->len);
  esp_camera_fb_return(fb);
  if (ok) failures_in_row_ = 0;
  return ok;
}
