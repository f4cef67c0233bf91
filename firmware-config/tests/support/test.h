#pragma once
// A deliberately tiny test harness: TEST registers a function, CHECK records a failure
// and leaves the current function.
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace t {

struct Case {
  const char* name;
  void (*fn)();
};
std::vector<Case>& registry();
struct Registrar {
  Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); }
};
void record_failure(const char* file, int line, const std::string& what);
bool current_failed();

}  // namespace t

#define TEST(name)                                       \
  static void name();                                    \
  static t::Registrar registrar_##name(#name, name);     \
  static void name()

#define CHECK(cond)                                              \
  do {                                                           \
    if (!(cond)) {                                               \
      t::record_failure(__FILE__, __LINE__, #cond);              \
      return;                                                    \
    }                                                            \
  } while (0)

#define CHECK_EQ(a, b)                                                                   \
  do {                                                                                   \
    auto va_ = (a);                                                                      \
    auto vb_ = (b);                                                                      \
    if (!(va_ == vb_)) {                                                                 \
      t::record_failure(__FILE__, __LINE__,                                              \
                        std::string(#a " == " #b "  (") + std::to_string(va_) + " vs " + \
                            std::to_string(vb_) + ")");                                  \
      return;                                                                            \
    }                                                                                    \
  } while (0)

#define CHECK_STR(a, b)                                                                              \
  do {                                                                                               \
    std::string va_ = (a);                                                                           \
    std::string vb_ = (b);                                                                           \
    if (va_ != vb_) {                                                                                \
      t::record_failure(__FILE__, __LINE__, std::string(#a " == " #b "  (\"") + va_ + "\" vs \"" + vb_ + "\")"); \
      return;                                                                                        \
    }                                                                                                \
  } while (0)
