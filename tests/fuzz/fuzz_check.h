// SHADOW_FUZZ_CHECK: the fuzz targets' invariant check. It aborts (not an exception or a
// gtest failure) because abort is what libFuzzer, and the corpus replayer, report as a crash
// with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SHADOW_FUZZ_CHECK(cond)                                                          \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)
