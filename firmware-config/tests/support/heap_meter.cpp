#include "support/heap_meter.h"

#include <cstdlib>
#include <new>

#include "lifelog/json.h"

namespace {

size_t g_live = 0;
size_t g_peak = 0;
int g_paused = 0;
constexpr size_t kHeader = 16;  // keeps the user pointer 16-byte aligned

void* tracked_alloc(size_t n) {
  unsigned char* p = static_cast<unsigned char*>(malloc(n + kHeader));
  if (!p) return nullptr;
  size_t* header = reinterpret_cast<size_t*>(p);
  header[0] = n;
  header[1] = g_paused ? 0 : 1;
  if (header[1]) {
    g_live += n;
    if (g_live > g_peak) g_peak = g_live;
  }
  return p + kHeader;
}

void tracked_free(void* user) {
  if (!user) return;
  unsigned char* p = static_cast<unsigned char*>(user) - kHeader;
  size_t* header = reinterpret_cast<size_t*>(p);
  if (header[1]) g_live -= header[0];
  free(p);
}

void* cjson_malloc(size_t n) { return tracked_alloc(n); }
void cjson_free(void* p) { tracked_free(p); }

}  // namespace

namespace heap_meter {
void install_cjson_hooks() {
  cJSON_Hooks hooks{cjson_malloc, cjson_free};
  cJSON_InitHooks(&hooks);
}
size_t live() { return g_live; }
size_t peak() { return g_peak; }
void reset_peak() { g_peak = g_live; }
Untracked::Untracked() { ++g_paused; }
Untracked::~Untracked() { --g_paused; }
}  // namespace heap_meter

void* operator new(size_t n) {
  void* p = tracked_alloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { tracked_free(p); }
void operator delete[](void* p) noexcept { tracked_free(p); }
void operator delete(void* p, size_t) noexcept { tracked_free(p); }
void operator delete[](void* p, size_t) noexcept { tracked_free(p); }
