#include <cstdlib>
#include <cstring>

#include "lifelog/json.h"
#include "support/heap_meter.h"
#include "support/test.h"

namespace t {

std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

static bool g_failed = false;
static const char* g_current = "";

void record_failure(const char* file, int line, const std::string& what) {
  g_failed = true;
  fprintf(stderr, "FAIL %s (%s:%d): %s\n", g_current, file, line, what.c_str());
}

bool current_failed() { return g_failed; }

}  // namespace t

int main(int argc, char** argv) {
  heap_meter::install_cjson_hooks();
  const char* only = argc > 1 ? argv[1] : nullptr;
  int passed = 0, failed = 0;
  for (const t::Case& c : t::registry()) {
    if (only && !strstr(c.name, only)) continue;
    t::g_failed = false;
    t::g_current = c.name;
    c.fn();
    if (t::g_failed) {
      ++failed;
    } else {
      ++passed;
      if (getenv("TEST_VERBOSE")) fprintf(stderr, "ok   %s\n", c.name);
    }
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
