// What a GoogleTest test needs from the machine (a recorded sample, a server binary), and what
// happens when it is missing: the test fails with the message, never a silent skip, so `make
// test` and CI cannot go green while testing nothing. A developer without ../shared can opt into
// skipping with SHADOW_ALLOW_MISSING=1; CI never sets it. Same contract as requirements.py.
#pragma once

#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

namespace shadow::test_support {

inline bool allow_missing() {
  const char* v = std::getenv("SHADOW_ALLOW_MISSING");
  return v != nullptr && std::strcmp(v, "1") == 0;
}

}  // namespace shadow::test_support

// SHADOW_MISSING(a << b): ends the current test, skipped under SHADOW_ALLOW_MISSING=1 and failed
// otherwise, with the streamed message.
#define SHADOW_MISSING(message)                                                              \
  do {                                                                                       \
    if (::shadow::test_support::allow_missing()) GTEST_SKIP() << message;                    \
    FAIL() << message << " (tools/install-deps and ../shared/data provide it; set "          \
           << "SHADOW_ALLOW_MISSING=1 to skip instead)";                                     \
  } while (false)
