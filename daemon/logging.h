// The daemon's logger: spdlog to stderr, with syslog priority prefixes ("<6>...") when stderr
// is the journal. Never log credentials (Authorization, X-Registry-Auth, passwords, tokens).
#pragma once

#include <spdlog/fwd.h>
#include <memory>

#include "daemon/config.h"

namespace imaged::daemon {

// Creates the logger, sets it as spdlog's default, and returns it.
std::shared_ptr<spdlog::logger> make_logger(LogLevel level, bool journald);

}  // namespace imaged::daemon
