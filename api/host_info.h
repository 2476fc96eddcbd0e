// Facts about the host for /version and /info: uname, os-release, CPUs, memory, cgroups.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace imaged::api {

struct HostFacts {
  std::string hostname;
  std::string kernel_version;    // uname -r
  std::string machine;           // uname -m: "x86_64" (Info.Architecture)
  std::string operating_system;  // os-release PRETTY_NAME: "Debian GNU/Linux 12 (bookworm)"
  std::string os_version;        // os-release VERSION_ID: "12"
  std::string cgroup_version;    // "2" or "1"
  int ncpu = 1;
  std::int64_t mem_total = 0;  // bytes
};

// Reads the live host (never fails; unknown facts stay empty/zero).
HostFacts probe_host();

// Go's GOARCH for a uname machine ("x86_64" → "amd64", "aarch64" → "arm64"; else unchanged).
std::string go_arch(std::string_view machine);

// KEY=value lines of /etc/os-release, quotes removed; comments and junk skipped.
std::map<std::string, std::string> parse_os_release(std::string_view text);

// A proxy URL with any user:password replaced by "xxxxx:xxxxx" (as dockerd's /info shows it).
std::string mask_proxy_credentials(std::string_view url);

}  // namespace imaged::api
