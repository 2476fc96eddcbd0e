// The one retry policy of the registry client (user need N2): a pure function from what happened
// on an attempt to "retry or not, after how long, and why". No clock, no sleeping, no RNG inside:
// the caller passes the elapsed time, the current time and a jitter value, so the policy is
// table-testable. Thread-safe.
//
//  - 408, 429, 500, 502, 503, 504: retry with exponential backoff and jitter; Retry-After
//    (delta-seconds or HTTP-date) is honoured when it is at most max_retry_after, and when a
//    registry asks for longer the policy gives up at once (fail fast rather than burn quota).
//  - timeouts, stalls and connection resets retry and resume from the bytes already received;
//    an attempt that delivered bytes resets the attempt count (progress is not failure).
//  - other 4xx (401 is the authorizer's business), 501, 505+, refused connections, DNS and TLS
//    failures: no retry (the caller may try the next endpoint).
//  - never after cancellation, never past max_attempts or max_elapsed.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace imaged::remotes {

enum class FailureKind {
  HttpStatus,       // a complete response with a failing `status`
  ConnectRefused,   // connection refused / host or network unreachable
  DnsFailure,       // name did not resolve
  TlsFailure,       // handshake or certificate failure
  Timeout,          // connect or response timeout
  Stall,            // no bytes for the stall timeout
  ConnectionReset,  // reset, EOF or short body mid-transfer
  Canceled,         // the caller canceled
  Other,            // anything else (programming errors, local I/O)
};
std::string_view failure_kind_name(FailureKind kind);

struct RetryConfig {
  int max_attempts = 5;  // consecutive attempts without progress, the first one included
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30'000};
  std::chrono::seconds max_retry_after{60};
  std::chrono::milliseconds max_elapsed{std::chrono::minutes(15)};
};

struct AttemptOutcome {
  int attempt = 1;  // 1-based count of consecutive failed attempts, this one included
  FailureKind kind = FailureKind::Other;
  int status = 0;                               // for HttpStatus
  std::string retry_after;                      // the Retry-After header value, "" when absent
  int64_t bytes_received = 0;                   // body bytes this attempt delivered to the caller
  std::chrono::milliseconds elapsed{0};         // since the logical operation began
  std::chrono::system_clock::time_point now{};  // for an HTTP-date Retry-After
  double jitter = 0.5;                          // uniform in [0, 1) from the caller's RNG
  bool canceled = false;                        // cancellation observed (whatever the kind)
};

struct RetryDecision {
  bool retry = false;
  std::chrono::milliseconds delay{0};
  bool resume = false;          // continue from the bytes already received (Range)
  bool reset_attempts = false;  // progress was made: restart the attempt count at 1
  std::string reason;           // "429 Too Many Requests", "stalled", ... for logs and progress
};

RetryDecision decide_retry(const RetryConfig& config, const AttemptOutcome& outcome);

// Parses Retry-After: delta-seconds, or an HTTP-date (IMF-fixdate, RFC 850, asctime) turned into
// a delay from `now` (0 when in the past). nullopt when unparseable.
std::optional<std::chrono::seconds> parse_retry_after(std::string_view value,
                                                      std::chrono::system_clock::time_point now);

// "429 Too Many Requests" style text for a status code ("HTTP 599" when unknown).
std::string status_text(int status);

}  // namespace imaged::remotes
