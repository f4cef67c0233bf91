#include "sim_image.h"

#include <cstdio>
#include <cstring>

#include "lifelog/ota_updater.h"

bool read_sim_image(const std::string& slot_path, SimImage* out) {
  FILE* f = fopen(slot_path.c_str(), "rb");
  if (!f) return false;
  char head[256] = {};
  size_t n = fread(head, 1, sizeof head - 1, f);
  fclose(f);
  head[n] = '\0';
  const char* magic = "LIFELOG-SIM-IMAGE 1\n";
  if (strncmp(head, magic, strlen(magic)) != 0) return false;
  SimImage img;
  char version[32] = {}, boot[16] = {};
  if (sscanf(head + strlen(magic), "version=%31[0-9.]\nboot=%15[a-z]\n", version, boot) != 2) return false;
  uint32_t v[3];
  if (!lifelog::parse_version(version, v)) return false;
  img.version = version;
  img.boot = boot;
  if (img.boot != "ok" && img.boot != "crash" && img.boot != "silent") return false;
  *out = img;
  return true;
}
