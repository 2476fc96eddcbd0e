// Registry rate-limit headers (Docker Hub's "RateLimit-Limit: 100;w=21600", "RateLimit-Remaining:
// 76;w=21600", "Docker-RateLimit-Source"), recorded per registry for display in pull output and
// /info (user need N3). RateLimits is thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "common/remotes/http.h"

namespace imaged::remotes {

struct RateLimit {
  int64_t limit = -1;              // requests per window, -1 when not sent
  int64_t remaining = -1;          // -1 when not sent
  std::chrono::seconds window{0};  // the "w=" parameter, 0 when absent
  std::string source;              // Docker-RateLimit-Source (the IP or account counted)
  std::chrono::system_clock::time_point observed_at{};
};

// The rate limit announced by a response, nullopt when it carries no RateLimit-* header.
std::optional<RateLimit> parse_rate_limit(const Headers& headers,
                                          std::chrono::system_clock::time_point now);

class RateLimits {
 public:
  // Records what `headers` announce for `registry` (no-op when they announce nothing).
  void record(const std::string& registry, const Headers& headers);
  std::optional<RateLimit> get(std::string_view registry) const;
  std::map<std::string, RateLimit> all() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, RateLimit, std::less<>> by_registry_;
};

}  // namespace imaged::remotes
