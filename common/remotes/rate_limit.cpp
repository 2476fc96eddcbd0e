#include "common/remotes/rate_limit.h"

#include <cctype>

namespace imaged::remotes {

namespace {

// "100;w=21600" → (100, 21600 s). Missing pieces stay at their defaults.
void parse_value(std::string_view v, int64_t& number, std::chrono::seconds& window) {
  size_t i = 0;
  while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
  int64_t n = 0;
  size_t start = i;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && i - start < 18)
    n = n * 10 + (v[i++] - '0');
  if (i > start) number = n;
  auto w = v.find("w=");
  if (w != std::string_view::npos) {
    int64_t s = 0;
    size_t j = w + 2, k = j;
    while (k < v.size() && std::isdigit(static_cast<unsigned char>(v[k])) && k - j < 18)
      s = s * 10 + (v[k++] - '0');
    if (k > j) window = std::chrono::seconds(s);
  }
}

}  // namespace

std::optional<RateLimit> parse_rate_limit(const Headers& headers,
                                          std::chrono::system_clock::time_point now) {
  auto limit = headers.get("RateLimit-Limit");
  auto remaining = headers.get("RateLimit-Remaining");
  if (!limit && !remaining) return std::nullopt;
  RateLimit r;
  if (limit) parse_value(*limit, r.limit, r.window);
  if (remaining) parse_value(*remaining, r.remaining, r.window);
  r.source = headers.get("Docker-RateLimit-Source").value_or("");
  r.observed_at = now;
  return r;
}

void RateLimits::record(const std::string& registry, const Headers& headers) {
  auto r = parse_rate_limit(headers, std::chrono::system_clock::now());
  if (!r) return;
  std::lock_guard lk(mu_);
  by_registry_[registry] = *r;
}

std::optional<RateLimit> RateLimits::get(std::string_view registry) const {
  std::lock_guard lk(mu_);
  auto it = by_registry_.find(registry);
  if (it == by_registry_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, RateLimit> RateLimits::all() const {
  std::lock_guard lk(mu_);
  return {by_registry_.begin(), by_registry_.end()};
}

}  // namespace imaged::remotes
