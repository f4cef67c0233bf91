#pragma once
#include <cstddef>
#include <cstdint>

namespace lifelog {

// Receives one frame in pieces; the camera glue keeps ownership of its frame buffer.
class FrameSink {
 public:
  virtual ~FrameSink() = default;
  virtual bool write(const uint8_t* data, size_t len) = 0;
};

class Camera {
 public:
  virtual ~Camera() = default;
  // Grabs one JPEG and pushes all of its bytes into sink. `frame` is the running
  // capture index (useful to fixtures and synthetic cameras). False on failure.
  virtual bool capture(uint32_t frame, FrameSink& sink) = 0;
};

}  // namespace lifelog
