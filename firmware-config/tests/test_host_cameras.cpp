// The simulator's synthetic sensor: exact sizes, seeded content, and per-frame sizes spread
// over [--photo-size, --photo-size-max] the same way on every run.
#include <set>
#include <string>

#include "host_cameras.h"
#include "support/test.h"

namespace {

struct Collect : lifelog::FrameSink {
  std::string bytes;
  bool write(const uint8_t* data, size_t len) override {
    bytes.append(reinterpret_cast<const char*>(data), len);
    return true;
  }
};

// "" if the camera reported a failure (never a valid JPEG, so the size checks catch it).
std::string shoot(SyntheticJpegCamera& cam, uint32_t frame) {
  Collect c;
  return cam.capture(frame, c) ? c.bytes : std::string();
}

}  // namespace

TEST(synthetic_camera_fixed_size_without_a_max) {
  SyntheticJpegCamera cam(60000, 1);
  for (uint32_t f : {0u, 1u, 2879u}) CHECK_EQ(shoot(cam, f).size(), size_t(60000));
  SyntheticJpegCamera same(60000, 1, 60000);  // max == size: fixed as well
  CHECK_EQ(shoot(same, 7).size(), size_t(60000));
}

TEST(synthetic_camera_sizes_vary_per_frame_within_the_range) {
  SyntheticJpegCamera cam(40000, 1, 80000);
  std::set<size_t> sizes;
  for (uint32_t f = 0; f < 200; ++f) {
    std::string jpeg = shoot(cam, f);
    CHECK(jpeg.size() >= 40000 && jpeg.size() <= 80000);
    CHECK_EQ(jpeg.size(), size_t(40000 + (uint64_t(f) * 7919) % 40001));  // the drain benchmark's spread
    CHECK(uint8_t(jpeg[0]) == 0xFF && uint8_t(jpeg[1]) == 0xD8);
    CHECK(uint8_t(jpeg[jpeg.size() - 2]) == 0xFF && uint8_t(jpeg[jpeg.size() - 1]) == 0xD9);
    sizes.insert(jpeg.size());
  }
  CHECK(sizes.size() > 150);  // not a handful of sizes
  // The same frame is the same bytes on every run and in every camera with that seed.
  SyntheticJpegCamera again(40000, 1, 80000);
  CHECK(shoot(again, 123) == shoot(cam, 123));
  SyntheticJpegCamera other_seed(40000, 2, 80000);
  CHECK(shoot(other_seed, 123) != shoot(cam, 123));
  CHECK_EQ(shoot(other_seed, 123).size(), shoot(cam, 123).size());  // sizes follow the frame only
}
