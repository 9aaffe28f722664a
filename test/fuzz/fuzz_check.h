#pragma once
// CHECK(condition) for the fuzz targets: abort() rather than assert() so the
// checks survive NDEBUG builds; file and line are printed because inlining
// hides them from the stack trace (clang 14 with libstdc++ 12 lacks
// std::source_location).

#include <cstdio>
#include <cstdlib>

namespace ficus::fuzz {

[[noreturn]] inline void failCheck(const char* condition, const char* file,
                                   int line) {
  std::fprintf(stderr, "%s:%d: check failed: %s\n", file, line, condition);
  std::abort();
}

}  // namespace ficus::fuzz

#define CHECK(condition)              \
  ((condition) ? static_cast<void>(0) \
               : ::ficus::fuzz::failCheck(#condition, __FILE__, __LINE__))
