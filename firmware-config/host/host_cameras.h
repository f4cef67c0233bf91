#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lifelog/camera.h"

// Makes a structurally plausible baseline JPEG (SOI, JFIF, comment, frame and scan headers,
// pseudo-random scan data without markers, EOI) of an exact size; content varies per frame.
// With size_max above size, each frame's size is frame_size(frame, size, size_max): spread over
// [size, size_max] and the same on every run, as a real camera's JPEGs vary with the scene.
class SyntheticJpegCamera : public lifelog::Camera {
 public:
  SyntheticJpegCamera(uint64_t size, uint32_t seed, uint64_t size_max = 0)
      : size_(size), size_max_(size_max), seed_(seed) {}
  bool capture(uint32_t frame, lifelog::FrameSink& sink) override;
  static constexpr uint64_t kMinSize = 128;
  static uint64_t frame_size(uint32_t frame, uint64_t size, uint64_t size_max) {
    return size_max > size ? size + (uint64_t(frame) * 7919u) % (size_max - size + 1) : size;
  }

 private:
  uint64_t size_;
  uint64_t size_max_;
  uint32_t seed_;
};

// Replays the .jpg/.jpeg files of a folder in name order, cycling.
class FixtureCamera : public lifelog::Camera {
 public:
  explicit FixtureCamera(const std::string& dir);
  bool ok() const { return !files_.empty(); }
  bool capture(uint32_t frame, lifelog::FrameSink& sink) override;

 private:
  std::vector<std::string> files_;
};
