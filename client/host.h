// Which daemon imagectl talks to: -H/--host, else $IMAGED_HOST, else $DOCKER_HOST when it is a
// unix:// address, else the default socket (/run/imaged.sock for root, else
// $XDG_RUNTIME_DIR/imaged.sock, as the daemon's own default). Only unix:// hosts are supported.
// Pure (the environment is passed in); thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "common/error.h"

namespace imaged::client {

struct HostEnv {
  std::string flag;  // -H value, "" if absent
  std::string imaged_host;
  std::string docker_host;
  std::string xdg_runtime_dir;
  bool root = false;
};
HostEnv current_host_env(std::string flag);

struct Host {
  std::filesystem::path socket;
  std::string source;  // "-H", "IMAGED_HOST", "DOCKER_HOST", "default": for error messages
};

// Errc::InvalidArgument for a non-unix address or a missing default.
Result<Host> resolve_host(const HostEnv& env);

// The message for a failed connect to `host` (errno-like cause found by looking at the socket):
// missing socket, permission denied, nothing listening; each with the fix.
std::string connect_failure_message(const Host& host);

}  // namespace imaged::client
