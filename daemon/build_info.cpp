#include "daemon/build_info.h"

#ifndef IMAGED_VERSION
#define IMAGED_VERSION "0.0.0"
#endif
#ifndef IMAGED_GIT_COMMIT
#define IMAGED_GIT_COMMIT ""
#endif
#ifndef IMAGED_BUILD_TIME
#define IMAGED_BUILD_TIME ""
#endif

namespace imaged::daemon {

const BuildInfo& build_info() {
  static const BuildInfo info {
    IMAGED_VERSION, IMAGED_GIT_COMMIT, IMAGED_BUILD_TIME,
#if defined(__clang__)
        "clang " __clang_version__,
#elif defined(__GNUC__)
        "gcc " __VERSION__,
#else
        "unknown",
#endif
  };
  return info;
}

}  // namespace imaged::daemon
