#include "daemon/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace imaged::daemon {

namespace {

// %P: the syslog priority prefix ("<6>" for info) that journald reads at the start of each line
// of a service's stderr (sd-daemon(3)), so that levels reach the journal without linking
// libsystemd's journal API.
class PriorityPrefix final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kPrefix[] = {"<7>", "<7>", "<6>", "<4>", "<3>", "<2>", ""};
    const auto level = static_cast<size_t>(msg.level);
    const std::string_view p = level < std::size(kPrefix) ? kPrefix[level] : "";
    dest.append(p.data(), p.data() + p.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<PriorityPrefix>();
  }
};

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(LogLevel level, bool journald) {
  auto logger =
      std::make_shared<spdlog::logger>("imaged", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (journald) {
    // The journal records time and unit itself; keep the message plain.
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<PriorityPrefix>('P').set_pattern("%P%v");
    logger->set_formatter(std::move(formatter));
  } else {
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
