// DECLARATIONS ONLY (espressif/esp32-camera driver/include/esp_camera.h, sensor.h); see README.md.
#pragma once
#include <cstddef>
#include <cstdint>

typedef int esp_err_t;
#define ESP_OK 0

typedef enum { PIXFORMAT_RGB565, PIXFORMAT_YUV422, PIXFORMAT_YUV420, PIXFORMAT_GRAYSCALE, PIXFORMAT_JPEG } pixformat_t;
typedef enum {
  FRAMESIZE_96X96, FRAMESIZE_QQVGA, FRAMESIZE_128X128, FRAMESIZE_QCIF, FRAMESIZE_HQVGA, FRAMESIZE_240X240,
  FRAMESIZE_QVGA, FRAMESIZE_320X320, FRAMESIZE_CIF, FRAMESIZE_HVGA, FRAMESIZE_VGA, FRAMESIZE_SVGA, FRAMESIZE_XGA,
  FRAMESIZE_HD, FRAMESIZE_SXGA, FRAMESIZE_UXGA, FRAMESIZE_FHD, FRAMESIZE_P_HD, FRAMESIZE_P_3MP, FRAMESIZE_QXGA,
  FRAMESIZE_QHD, FRAMESIZE_WQXGA, FRAMESIZE_P_FHD, FRAMESIZE_QSXGA, FRAMESIZE_5MP, FRAMESIZE_INVALID
} framesize_t;
typedef enum { CAMERA_GRAB_WHEN_EMPTY, CAMERA_GRAB_LATEST } camera_grab_mode_t;
typedef enum { CAMERA_FB_IN_PSRAM, CAMERA_FB_IN_DRAM } camera_fb_location_t;
typedef enum { LEDC_TIMER_0 } ledc_timer_t;
typedef enum { LEDC_CHANNEL_0 } ledc_channel_t;

#define OV2640_PID 0x26
#define OV3660_PID 0x3660
#define OV5640_PID 0x5640

typedef struct {
  int pin_pwdn, pin_reset, pin_xclk, pin_sccb_sda, pin_sccb_scl;
  int pin_d7, pin_d6, pin_d5, pin_d4, pin_d3, pin_d2, pin_d1, pin_d0;
  int pin_vsync, pin_href, pin_pclk;
  int xclk_freq_hz;
  ledc_timer_t ledc_timer;
  ledc_channel_t ledc_channel;
  pixformat_t pixel_format;
  framesize_t frame_size;
  int jpeg_quality;
  size_t fb_count;
  camera_fb_location_t fb_location;
  camera_grab_mode_t grab_mode;
} camera_config_t;

typedef struct {
  uint8_t* buf;
  size_t len;
  size_t width;
  size_t height;
  pixformat_t format;
} camera_fb_t;

typedef struct {
  uint8_t MIDH, MIDL;
  uint16_t PID;
  uint8_t VER;
} sensor_id_t;

typedef struct _sensor sensor_t;
struct _sensor {
  sensor_id_t id;
  int (*set_framesize)(sensor_t* sensor, framesize_t framesize);
  int (*set_quality)(sensor_t* sensor, int quality);
  int (*set_vflip)(sensor_t* sensor, int enable);
  int (*set_brightness)(sensor_t* sensor, int level);
  int (*set_saturation)(sensor_t* sensor, int level);
};

esp_err_t esp_camera_init(const camera_config_t* config);
esp_err_t esp_camera_deinit();
camera_fb_t* esp_camera_fb_get();
void esp_camera_fb_return(camera_fb_t* fb);
sensor_t* esp_camera_sensor_get();
