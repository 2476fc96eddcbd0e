#include "api/host_info.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace imaged::api {

namespace {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

std::map<std::string, std::string> parse_os_release(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    std::string v;
    for (std::size_t i = 0; i < value.size(); ++i) {  // shell-style backslash escapes
      if (value[i] == '\\' && i + 1 < value.size()) ++i;
      v += value[i];
    }
    out[std::string(line.substr(0, eq))] = std::move(v);
  }
  return out;
}

std::string go_arch(std::string_view machine) {
  if (machine == "x86_64" || machine == "amd64") return "amd64";
  if (machine == "aarch64" || machine == "arm64") return "arm64";
  if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686")
    return "386";
  if (machine.starts_with("armv")) return "arm";
  if (machine == "ppc64le") return "ppc64le";
  if (machine == "s390x") return "s390x";
  if (machine == "riscv64") return "riscv64";
  return std::string(machine);
}

std::string mask_proxy_credentials(std::string_view url) {
  auto scheme = url.find("://");
  std::size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  auto slash = url.find('/', start);
  auto at = url.rfind('@', slash == std::string_view::npos ? url.size() : slash);
  if (at == std::string_view::npos || at < start) return std::string(url);
  return std::string(url.substr(0, start)) + "xxxxx:xxxxx" + std::string(url.substr(at));
}

HostFacts probe_host() {
  HostFacts facts;
  utsname u{};
  if (::uname(&u) == 0) {
    facts.kernel_version = u.release;
    facts.machine = u.machine;
    facts.hostname = u.nodename;
  }
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0 && host[0]) facts.hostname = host;

  auto os = parse_os_release(read_file("/etc/os-release"));
  if (os.empty()) os = parse_os_release(read_file("/usr/lib/os-release"));
  facts.operating_system = os.contains("PRETTY_NAME") ? os["PRETTY_NAME"] : "Linux";
  facts.os_version = os["VERSION_ID"];

  std::error_code ec;
  facts.cgroup_version =
      std::filesystem::exists("/sys/fs/cgroup/cgroup.controllers", ec) ? "2" : "1";

  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  facts.ncpu = n > 0 ? static_cast<int>(n) : static_cast<int>(std::thread::hardware_concurrency());
  long pages = ::sysconf(_SC_PHYS_PAGES);
  long page_size = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page_size > 0)
    facts.mem_total = static_cast<std::int64_t>(pages) * static_cast<std::int64_t>(page_size);
  return facts;
}

}  // namespace imaged::api
