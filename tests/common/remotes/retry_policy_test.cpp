#include "common/remotes/retry_policy.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace imaged::remotes;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

// A fixed "now" for HTTP dates: Sun, 06 Nov 1994 08:49:37 GMT.
const auto kNow = std::chrono::system_clock::from_time_t(784111777);

struct Row {
  const char* name;
  AttemptOutcome in;
  bool retry;
  milliseconds delay;  // expected delay when retrying
  bool resume;
  bool reset;
  const char* reason_contains;
};

AttemptOutcome status(int s, int attempt = 1, std::string retry_after = "") {
  AttemptOutcome o;
  o.kind = FailureKind::HttpStatus;
  o.status = s;
  o.attempt = attempt;
  o.retry_after = std::move(retry_after);
  o.now = kNow;
  o.jitter = 1.0;  // the full backoff: base * 2^(attempt-1)
  return o;
}

AttemptOutcome failure(FailureKind k, int attempt = 1, int64_t bytes = 0) {
  AttemptOutcome o;
  o.kind = k;
  o.attempt = attempt;
  o.bytes_received = bytes;
  o.now = kNow;
  o.jitter = 0.0;  // half the backoff
  return o;
}

template <class F>
AttemptOutcome with(AttemptOutcome o, F f) {
  f(o);
  return o;
}

}  // namespace

TEST_CASE("remotes: retry policy table", "[remotes]") {
  RetryConfig cfg;  // 5 attempts, 500 ms base, 30 s max delay, Retry-After cap 60 s, 15 min budget
  std::vector<Row> rows = {
      // Transient statuses: backoff base*2^(n-1), jitter 1.0 = full.
      {"429 first", status(429, 1), true, 500ms, false, false, "429 Too Many Requests"},
      {"429 third", status(429, 3), true, 2000ms, false, false, "429"},
      {"503 second", status(503, 2), true, 1000ms, false, false, "503 Service Unavailable"},
      {"500", status(500), true, 500ms, false, false, "500"},
      {"502", status(502), true, 500ms, false, false, "502"},
      {"504", status(504), true, 500ms, false, false, "504"},
      {"408", status(408), true, 500ms, false, false, "408"},
      {"503 fourth", status(503, 4), true, 4000ms, false, false, "503"},
      // Retry-After: seconds and HTTP-date, honoured up to the cap; beyond it, fail fast.
      {"Retry-After 1", status(429, 1, "1"), true, 1000ms, false, false, "Retry-After 1s"},
      {"Retry-After 0", status(429, 1, "0"), true, 0ms, false, false, "Retry-After 0s"},
      {"Retry-After date", status(503, 1, "Sun, 06 Nov 1994 08:50:07 GMT"), true, 30000ms, false,
       false, "30s"},
      {"Retry-After past date", status(503, 1, "Sun, 06 Nov 1994 08:00:00 GMT"), true, 0ms, false,
       false, "0s"},
      {"Retry-After too long", status(429, 1, "3600"), false, 0ms, false, false,
       "more than the 60s limit"},
      {"Retry-After garbage", status(429, 1, "soon"), true, 500ms, false, false, "429"},
      // Permanent statuses fail at once.
      {"400", status(400), false, 0ms, false, false, "400 Bad Request"},
      {"401", status(401), false, 0ms, false, false, "401"},
      {"403", status(403), false, 0ms, false, false, "403"},
      {"404", status(404), false, 0ms, false, false, "404"},
      {"405", status(405), false, 0ms, false, false, "405"},
      {"501", status(501), false, 0ms, false, false, "501"},
      // Max attempts.
      {"5th attempt", status(503, 5), false, 0ms, false, false, "giving up after 5 attempts"},
      {"4th attempt", status(503, 4), true, 4000ms, false, false, "503"},
      // Transport: resets, timeouts and stalls retry and resume; jitter 0.0 = half the backoff.
      {"reset", failure(FailureKind::ConnectionReset), true, 250ms, true, false,
       "connection reset"},
      {"timeout", failure(FailureKind::Timeout, 2), true, 500ms, true, false, "timeout"},
      {"stall", failure(FailureKind::Stall), true, 250ms, true, false, "stalled"},
      {"stall 5th no progress", failure(FailureKind::Stall, 5), false, 0ms, true, false,
       "giving up"},
      {"stall 5th with progress", failure(FailureKind::Stall, 5, 4096), true, 250ms, true, true,
       "stalled"},
      {"reset 9th with progress", failure(FailureKind::ConnectionReset, 9, 1), true, 250ms, true,
       true, "reset"},
      // Not retried here (the caller may try another endpoint).
      {"refused", failure(FailureKind::ConnectRefused), false, 0ms, false, false,
       "connection refused"},
      {"dns", failure(FailureKind::DnsFailure), false, 0ms, false, false, "name resolution"},
      {"tls", failure(FailureKind::TlsFailure), false, 0ms, false, false, "TLS"},
      {"other", failure(FailureKind::Other), false, 0ms, false, false, "error"},
      // Never after cancellation.
      {"canceled kind", failure(FailureKind::Canceled), false, 0ms, false, false, "canceled"},
      {"canceled flag", with(status(503), [](auto& o) { o.canceled = true; }), false, 0ms, false,
       false, "canceled"},
      {"canceled stall",
       with(failure(FailureKind::Stall, 1, 100), [](auto& o) { o.canceled = true; }), false, 0ms,
       false, false, "canceled"},
      // Out of time.
      {"budget", with(status(503), [](auto& o) { o.elapsed = std::chrono::minutes(15); }), false,
       0ms, false, false, "out of time"},
      {"budget vs Retry-After",
       with(status(429, 1, "30"), [](auto& o) { o.elapsed = std::chrono::seconds(14 * 60 + 45); }),
       false, 0ms, false, false, "out of time"},
  };
  for (const auto& row : rows) {
    INFO(row.name);
    RetryDecision d = decide_retry(cfg, row.in);
    CHECK(d.retry == row.retry);
    if (row.retry) {
      CHECK(d.delay == row.delay);
      CHECK(d.resume == row.resume);
      CHECK(d.reset_attempts == row.reset);
    }
    CHECK_THAT(d.reason, Catch::Contains(row.reason_contains));
  }
}

TEST_CASE("remotes: retry jitter spreads delays within [exp/2, exp]", "[remotes]") {
  RetryConfig cfg;
  cfg.base_delay = 1000ms;
  for (double j : {0.0, 0.25, 0.5, 0.999}) {
    AttemptOutcome o = status(503, 2);
    o.jitter = j;
    auto d = decide_retry(cfg, o);
    REQUIRE(d.retry);
    CHECK(d.delay >= 1000ms);
    CHECK(d.delay <= 2000ms);
    CHECK(d.delay == milliseconds(static_cast<int64_t>(1000 + j * 1000)));
  }
}

TEST_CASE("remotes: small configurations for tests", "[remotes]") {
  RetryConfig cfg;
  cfg.max_attempts = 2;
  cfg.max_retry_after = 1s;
  CHECK(decide_retry(cfg, status(429, 1, "1")).retry);
  CHECK_FALSE(decide_retry(cfg, status(429, 1, "2")).retry);
  CHECK_FALSE(decide_retry(cfg, status(503, 2)).retry);
}

TEST_CASE("remotes: Retry-After parsing", "[remotes]") {
  CHECK(parse_retry_after("120", kNow) == std::chrono::seconds(120));
  CHECK(parse_retry_after(" 7 ", kNow) == std::chrono::seconds(7));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", kNow) == std::chrono::seconds(10));
  CHECK(parse_retry_after("Sunday, 06-Nov-94 08:49:47 GMT", kNow) == std::chrono::seconds(10));
  CHECK(parse_retry_after("Sun Nov  6 08:49:47 1994", kNow) == std::chrono::seconds(10));
  CHECK(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", kNow) == std::chrono::seconds(0));
  CHECK_FALSE(parse_retry_after("", kNow));
  CHECK_FALSE(parse_retry_after("-5", kNow));
  CHECK_FALSE(parse_retry_after("1.5", kNow));
  CHECK_FALSE(parse_retry_after("tomorrow", kNow));
  CHECK(status_text(429) == "429 Too Many Requests");
  CHECK(status_text(599) == "HTTP 599");
}
