#include "core/version.h"

#ifndef SHADOW_VERSION
#define SHADOW_VERSION "0.0.0"
#endif
#ifndef SHADOW_GIT_REV
#define SHADOW_GIT_REV "unknown"
#endif
#ifndef SHADOW_BUILD_TYPE
#define SHADOW_BUILD_TYPE "unknown"
#endif

namespace shadow {

std::string program_version() {
  return std::string(SHADOW_VERSION) + " (git " + SHADOW_GIT_REV + ", " + SHADOW_BUILD_TYPE + ")";
}

}  // namespace shadow
