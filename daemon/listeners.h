// Opens the sockets the daemon serves on, per Config::hosts: binds Unix sockets safely (a stale
// socket file is replaced only when nothing answers on it; a live daemon is a clear error),
// applies --group (chown root:group, 0660; a missing group is a warning), binds TCP, and takes
// systemd-activated sockets for fd://.
#pragma once

#include <spdlog/fwd.h>
#include <filesystem>
#include <string>
#include <vector>

#include "api/listen_socket.h"
#include "common/error.h"
#include "daemon/config.h"
#include "daemon/systemd.h"

namespace imaged::daemon {

struct OpenedListener {
  api::OwnedFd fd;
  std::string
      description;  // "unix:///run/imaged.sock", "tcp://127.0.0.1:2375", "fd://imaged.socket"
  std::filesystem::path unix_path;  // set when we bound a Unix socket (removed at exit)
  bool tcp = false;
};

// `activated` are the sockets from take_activated_sockets(); fd:// consumes them (all, or the one
// whose name or number matches). Errors name the host that failed; nothing stays open on failure.
Result<std::vector<OpenedListener>> open_listeners(const Config& config,
                                                   std::vector<ActivatedSocket> activated,
                                                   spdlog::logger& log);

}  // namespace imaged::daemon
