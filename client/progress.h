// Renders a daemon JSON progress stream (pull, push, load; engine-api §1.7) for people and CI.
//
// Modes:
//   tty    per-layer bars redrawn in place (ANSI cursor-up + erase line) at most every 100 ms,
//          with a total line: bytes done/total, rate, ETA.
//   plain  for logs and pipes: lines without an id as they come; per layer only the final
//          state ("Pull complete", "Already exists", "Pushed", ...) and, for long transfers, a
//          "Downloading 12MB/40MB (30%)" line at most every `plain_interval` per layer; then a
//          one-line summary. Never a flood: a multi-layer pull is O(layers) lines.
//   json   the daemon's messages, one JSON object per line (NDJSON), unchanged.
//   quiet  nothing (the caller prints the result).
// The clock is injected so the throttling is testable. Not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace imaged::client {

enum class ProgressMode { Tty, Plain, Json, Quiet };

// "auto" resolves with `is_tty`; Errc::InvalidArgument for an unknown name.
Result<ProgressMode> parse_progress_mode(const std::string& name, bool is_tty);

class ProgressRenderer {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressRenderer(std::ostream& out, ProgressMode mode,
                   std::function<Clock::time_point()> now = Clock::now,
                   Clock::duration plain_interval = std::chrono::seconds(5));

  // Feeds bytes of the stream (any chunking); complete lines are handled as they arrive.
  void feed(std::string_view bytes);
  // Handles one decoded message.
  void handle(const nlohmann::json& message);
  // Ends the display: final redraw (tty) and the summary line (plain).
  void finish();

  // The first in-stream error ({"errorDetail":...} or {"error":...}), if any.
  const std::optional<std::string>& error() const { return error_; }
  // `stream` texts seen (load: "Loaded image: x\n"), in order.
  const std::vector<std::string>& streams() const { return streams_; }
  // The last `aux` object (push: {"Tag","Digest","Size"}).
  const nlohmann::json& aux() const { return aux_; }

 private:
  struct Layer {
    std::string id;
    std::string status;
    std::int64_t current = 0;
    std::int64_t total = 0;
    Clock::time_point started;
    Clock::time_point last_plain;
    bool done = false;
  };
  void redraw(bool force);
  std::string layer_line(const Layer& layer) const;
  std::string total_line() const;
  Layer& layer(const std::string& id);

  std::ostream& out_;
  ProgressMode mode_;
  std::function<Clock::time_point()> now_;
  Clock::duration plain_interval_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  std::string pending_;
  std::vector<std::string> lines_;  // tty: the block, in order ("#<index>" = layer)
  std::vector<Layer> layers_;
  std::size_t drawn_ = 0;
  bool dirty_ = false;
  std::optional<std::string> error_;
  std::vector<std::string> streams_;
  nlohmann::json aux_;
};

// "[=====>     ]" of `width` cells for current/total.
std::string progress_bar(std::int64_t current, std::int64_t total, int width = 30);

}  // namespace imaged::client
