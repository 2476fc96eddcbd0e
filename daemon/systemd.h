// systemd integration: socket activation (sd_listen_fds), readiness notification (sd_notify) and
// journal detection. Every call is a no-op outside systemd.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "api/listen_socket.h"
#include "common/error.h"

namespace imaged::daemon {

struct ActivatedSocket {
  api::OwnedFd fd;
  std::string name;  // FileDescriptorName= ("imaged.socket" by default), or "" if unnamed
};

// Takes the sockets systemd passed (LISTEN_FDS), unsetting the LISTEN_* variables. Empty when
// not activated. Call once, before any other thread starts.
Result<std::vector<ActivatedSocket>> take_activated_sockets();

// sd_notify wrappers: READY=1 once serving, STOPPING=1 when shutdown begins, STATUS=... text.
void notify_ready(std::string_view status);
void notify_stopping();

// True when stderr is connected to the journal (JOURNAL_STREAM matches stderr's device/inode).
bool stderr_is_journal();

}  // namespace imaged::daemon
