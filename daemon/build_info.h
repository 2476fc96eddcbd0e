// Build facts compiled into the daemon (version, commit, build time, compiler).
#pragma once

#include <string>

namespace imaged::daemon {

struct BuildInfo {
  std::string version;     // "0.1.0"
  std::string git_commit;  // short hash or ""
  std::string build_time;  // RFC 3339 or ""
  std::string compiler;    // "gcc 12.2.0"
};

const BuildInfo& build_info();

}  // namespace imaged::daemon
