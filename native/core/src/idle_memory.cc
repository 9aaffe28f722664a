#include "ficus/idle_memory.h"

// Sanitizers replace malloc: glibc's malloc_trim would set up arenas they
// never use, and glibc then aborts at thread exit.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FICUS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FICUS_SANITIZED 1
#endif
#endif
#if defined(__GLIBC__) && !defined(FICUS_SANITIZED)
#define FICUS_MALLOC_TRIM 1
#include <malloc.h>
#endif

namespace ficus {

void trimHeap() noexcept {
#ifdef FICUS_MALLOC_TRIM
  malloc_trim(0);
#endif
}

}  // namespace ficus
