#pragma once
// What the simulator's "firmware image" is: the bytes a release carries, starting with a header
// that says which version the image runs and how it behaves at boot. An image without the header
// (or a slot never written) is the build's own version.
//   LIFELOG-SIM-IMAGE 1\nversion=0.5.0\nboot=ok\n<any padding>
// boot=crash: the image dies right after the bootloader started it (exit 9), every time, so
// it is never confirmed and the bootloader goes back. boot=silent: it runs but never reaches the
// server (every request fails), so the confirm deadline rolls it back.
#include <string>

struct SimImage {
  std::string version;
  std::string boot = "ok";  // ok | crash | silent
};

// False when the file has no header (the image then is the build itself).
bool read_sim_image(const std::string& slot_path, SimImage* out);
