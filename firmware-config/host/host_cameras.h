#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "lifelog/camera.h"

// Makes a structurally plausible baseline JPEG (SOI, JFIF, comment, frame and scan headers,
// pseudo-random scan data without markers, EOI) of an exact size; content varies per frame.
class SyntheticJpegCamera : public lifelog::Camera {
 public:
  SyntheticJpegCamera(uint64_t size, uint32_t seed) : size_(size), seed_(seed) {}
  bool capture(uint32_t frame, lifelog::FrameSink& sink) override;
  static constexpr uint64_t kMinSize = 128;

 private:
  uint64_t size_;
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
