#include "client/host.h"

#include <unistd.h>

#include <cstdlib>

namespace imaged::client {

namespace {
std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}
}  // namespace

HostEnv current_host_env(std::string flag) {
  return HostEnv{.flag = std::move(flag),
                 .imaged_host = env_or_empty("IMAGED_HOST"),
                 .docker_host = env_or_empty("DOCKER_HOST"),
                 .xdg_runtime_dir = env_or_empty("XDG_RUNTIME_DIR"),
                 .root = ::geteuid() == 0};
}

Result<Host> resolve_host(const HostEnv& env) {
  auto from = [](const std::string& value, const std::string& source) -> Result<Host> {
    if (value.starts_with("unix://") && value.size() > 7)
      return Host{std::filesystem::path(value.substr(7)), source};
    if (value.starts_with("/")) return Host{std::filesystem::path(value), source};
    return fail(Errc::InvalidArgument, "unsupported host \"" + value + "\" (from " + source +
                                           "): imagectl speaks to imaged over a unix:// socket");
  };
  if (!env.flag.empty()) return from(env.flag, "-H");
  if (!env.imaged_host.empty()) return from(env.imaged_host, "IMAGED_HOST");
  if (env.docker_host.starts_with("unix://")) return from(env.docker_host, "DOCKER_HOST");
  if (env.root) return Host{"/run/imaged.sock", "default"};
  if (env.xdg_runtime_dir.empty())
    return fail(Errc::InvalidArgument,
                "no daemon address: XDG_RUNTIME_DIR is not set; use -H unix:///path/imaged.sock "
                "or set IMAGED_HOST");
  return Host{std::filesystem::path(env.xdg_runtime_dir) / "imaged.sock", "default"};
}

std::string connect_failure_message(const Host& host) {
  std::string where = "unix://" + host.socket.string();
  if (host.source != "default") where += " (from " + host.source + ")";
  std::error_code ec;
  if (!std::filesystem::exists(host.socket, ec))
    return "cannot connect to imaged at " + where +
           ": the socket does not exist. Is imaged running? Start it with `systemctl start "
           "imaged` (or `systemctl --user start imaged`) or ./scripts/run-daemon.sh, or point "
           "imagectl at it with -H/IMAGED_HOST";
  if (::access(host.socket.c_str(), R_OK | W_OK) != 0)
    return "cannot connect to imaged at " + where +
           ": permission denied. Add yourself to the imaged group (`sudo usermod -aG imaged "
           "$USER`, then log in again) or run as root";
  return "cannot connect to imaged at " + where +
         ": nothing is listening on the socket (connection refused). Is imaged running? Start "
         "it with `systemctl start imaged` or ./scripts/run-daemon.sh";
}

}  // namespace imaged::client
