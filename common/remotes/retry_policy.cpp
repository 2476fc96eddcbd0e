#include "common/remotes/retry_policy.h"

#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace imaged::remotes {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string_view failure_kind_name(FailureKind kind) {
  switch (kind) {
    case FailureKind::HttpStatus:
      return "http status";
    case FailureKind::ConnectRefused:
      return "connection refused";
    case FailureKind::DnsFailure:
      return "name resolution failed";
    case FailureKind::TlsFailure:
      return "TLS failure";
    case FailureKind::Timeout:
      return "timeout";
    case FailureKind::Stall:
      return "stalled";
    case FailureKind::ConnectionReset:
      return "connection reset";
    case FailureKind::Canceled:
      return "canceled";
    case FailureKind::Other:
      return "error";
  }
  return "error";
}

std::string status_text(int status) {
  const char* text = nullptr;
  switch (status) {
    case 200:
      text = "OK";
      break;
    case 201:
      text = "Created";
      break;
    case 202:
      text = "Accepted";
      break;
    case 204:
      text = "No Content";
      break;
    case 206:
      text = "Partial Content";
      break;
    case 301:
      text = "Moved Permanently";
      break;
    case 302:
      text = "Found";
      break;
    case 303:
      text = "See Other";
      break;
    case 307:
      text = "Temporary Redirect";
      break;
    case 308:
      text = "Permanent Redirect";
      break;
    case 400:
      text = "Bad Request";
      break;
    case 401:
      text = "Unauthorized";
      break;
    case 403:
      text = "Forbidden";
      break;
    case 404:
      text = "Not Found";
      break;
    case 405:
      text = "Method Not Allowed";
      break;
    case 408:
      text = "Request Timeout";
      break;
    case 409:
      text = "Conflict";
      break;
    case 413:
      text = "Request Entity Too Large";
      break;
    case 416:
      text = "Requested Range Not Satisfiable";
      break;
    case 429:
      text = "Too Many Requests";
      break;
    case 500:
      text = "Internal Server Error";
      break;
    case 501:
      text = "Not Implemented";
      break;
    case 502:
      text = "Bad Gateway";
      break;
    case 503:
      text = "Service Unavailable";
      break;
    case 504:
      text = "Gateway Timeout";
      break;
    case 505:
      text = "HTTP Version Not Supported";
      break;
    default:
      break;
  }
  if (!text) return "HTTP " + std::to_string(status);
  return std::to_string(status) + " " + text;
}

std::optional<seconds> parse_retry_after(std::string_view value,
                                         std::chrono::system_clock::time_point now) {
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
    value.remove_prefix(1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    if (value.size() > 9) return seconds(999'999'999);  // absurd, but a number: "very long"
    return seconds(std::stol(std::string(value)));
  }
  std::string text(value);
  for (const char* format : {"%a, %d %b %Y %H:%M:%S GMT",  // IMF-fixdate
                             "%A, %d-%b-%y %H:%M:%S GMT",  // RFC 850
                             "%a %b %e %H:%M:%S %Y"}) {    // asctime
    struct tm tm;
    std::memset(&tm, 0, sizeof tm);
    const char* end = ::strptime(text.c_str(), format, &tm);
    if (!end || *end != '\0') continue;
    auto at = std::chrono::system_clock::from_time_t(::timegm(&tm));
    auto delta = std::chrono::duration_cast<seconds>(at - now);
    return std::max(delta, seconds(0));
  }
  return std::nullopt;
}

RetryDecision decide_retry(const RetryConfig& config, const AttemptOutcome& o) {
  RetryDecision d;
  if (o.canceled || o.kind == FailureKind::Canceled) {
    d.reason = "canceled";
    return d;
  }
  // 1. What happened, and is it worth another attempt at all?
  bool transient = false;
  switch (o.kind) {
    case FailureKind::HttpStatus:
      d.reason = status_text(o.status);
      transient = o.status == 408 || o.status == 429 || o.status == 500 || o.status == 502 ||
                  o.status == 503 || o.status == 504;
      break;
    case FailureKind::Timeout:
    case FailureKind::Stall:
    case FailureKind::ConnectionReset:
      d.reason = std::string(failure_kind_name(o.kind));
      transient = true;
      d.resume = true;
      break;
    default:
      d.reason = std::string(failure_kind_name(o.kind));
      break;
  }
  if (!transient) {
    d.resume = false;
    return d;
  }

  // 2. Progress resets the count: a stalled 1 GB download that got 600 MB is not a failure.
  int attempt = o.attempt;
  if (o.bytes_received > 0 && d.resume) {
    d.reset_attempts = true;
    attempt = 1;
  }
  if (attempt >= config.max_attempts) {
    d.reason += " (giving up after " + std::to_string(attempt) + " attempts)";
    return d;
  }

  // 3. How long to wait: exponential backoff with jitter, or what the registry asked for.
  int64_t exp = config.base_delay.count();
  for (int i = 1; i < attempt && exp < config.max_delay.count(); ++i) exp *= 2;
  exp = std::min<int64_t>(exp, config.max_delay.count());
  double jitter = std::clamp(o.jitter, 0.0, 1.0);
  milliseconds delay(static_cast<int64_t>(exp / 2.0 + jitter * exp / 2.0));
  if (o.kind == FailureKind::HttpStatus && !o.retry_after.empty()) {
    if (auto ra = parse_retry_after(o.retry_after, o.now)) {
      if (*ra > config.max_retry_after) {
        d.reason += " (registry asks to retry after " + std::to_string(ra->count()) +
                    "s, more than the " + std::to_string(config.max_retry_after.count()) +
                    "s limit)";
        return d;
      }
      delay = std::chrono::duration_cast<milliseconds>(*ra);
      d.reason += " (Retry-After " + std::to_string(ra->count()) + "s)";
    }
  }

  // 4. Within the overall budget?
  if (o.elapsed + delay > config.max_elapsed) {
    d.reason += " (out of time)";
    return d;
  }
  d.retry = true;
  d.delay = delay;
  return d;
}

}  // namespace imaged::remotes
