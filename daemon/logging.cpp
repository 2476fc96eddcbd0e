#include "daemon/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

namespace imaged::daemon {

std::shared_ptr<spdlog::logger> make_logger(LogLevel level, bool journald) {
  std::shared_ptr<spdlog::logger> logger;
  if (journald) {
    // The journal records time and unit itself; keep the message plain.
    auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("imaged");
    logger = std::make_shared<spdlog::logger>("imaged", sink);
    logger->set_pattern("%v");
  } else {
    logger = std::make_shared<spdlog::logger>("imaged",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  switch (level) {
    case LogLevel::Debug:
      logger->set_level(spdlog::level::debug);
      break;
    case LogLevel::Info:
      logger->set_level(spdlog::level::info);
      break;
    case LogLevel::Warn:
      logger->set_level(spdlog::level::warn);
      break;
    case LogLevel::Error:
      logger->set_level(spdlog::level::err);
      break;
    case LogLevel::Fatal:
      logger->set_level(spdlog::level::critical);
      break;
  }
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  return logger;
}

}  // namespace imaged::daemon
