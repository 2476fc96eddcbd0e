#include "common/images/timestamps.h"

#include <catch2/catch.hpp>

using namespace imaged;
using namespace imaged::images;

namespace {
constexpr int64_t kSec = 1'000'000'000;
}

TEST_CASE("timestamps: RFC 3339 with nanoseconds round-trips as Go prints it", "[images]") {
  CHECK(*parse_rfc3339_ns("2024-01-01T00:00:00Z") == 1704067200 * kSec);
  CHECK(*parse_rfc3339_ns("2024-01-01T00:00:00.5Z") == 1704067200 * kSec + 500'000'000);
  CHECK(*parse_rfc3339_ns("2024-01-01T02:00:00+02:00") == 1704067200 * kSec);
  CHECK(format_rfc3339_nano(1704067200 * kSec) == "2024-01-01T00:00:00Z");
  CHECK(format_rfc3339_nano(1704067200 * kSec + 480662052) == "2024-01-01T00:00:00.480662052Z");
  CHECK(format_rfc3339_nano(1704067200 * kSec + 710435590) == "2024-01-01T00:00:00.71043559Z");
  CHECK(format_rfc3339_nano(kZeroTimeNs) == "0001-01-01T00:00:00Z");
  CHECK(*parse_rfc3339_ns("0001-01-01T00:00:00Z") == kZeroTimeNs);
  CHECK(format_rfc3339_nano(-kSec) == "1969-12-31T23:59:59Z");
  CHECK_FALSE(parse_rfc3339_ns("2024-01-01"));
  CHECK_FALSE(parse_rfc3339_ns("yesterday"));
  CHECK(unix_seconds(kZeroTimeNs) == kZeroTimeUnix);
  CHECK(unix_seconds(1704067200 * kSec + 1) == 1704067200);
}

TEST_CASE("timestamps: until/since values as moby's GetTimestamp", "[images]") {
  const int64_t now = 1'800'000'000 * kSec;
  CHECK(*parse_time_or_duration("10m", now) == now - 600 * kSec);
  CHECK(*parse_time_or_duration("1h30m", now) == now - 5400 * kSec);
  CHECK(*parse_time_or_duration("1.5h", now) == now - 5400 * kSec);
  CHECK(*parse_time_or_duration("-1h", now) == now + 3600 * kSec);
  CHECK(*parse_time_or_duration("0", now) == 0);
  CHECK(*parse_time_or_duration("1700000000", now) == 1700000000 * kSec);
  CHECK(*parse_time_or_duration("1700000000.5", now) == 1700000000 * kSec + 500'000'000);
  CHECK(*parse_time_or_duration("2024-01-01", now) == 1704067200 * kSec);
  CHECK(*parse_time_or_duration("2024-01-01T10", now) == (1704067200 + 36000) * kSec);
  CHECK(*parse_time_or_duration("2024-01-01T10:30", now) == (1704067200 + 37800) * kSec);
  CHECK(*parse_time_or_duration("2024-01-01T00:00:00Z", now) == 1704067200 * kSec);
  CHECK(*parse_time_or_duration("2024-01-01T00:00:00.25+01:00", now) ==
        (1704067200 - 3600) * kSec + 250'000'000);
  auto bad = parse_time_or_duration("soon", now);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "failed to parse value as time or duration: \"soon\"");
  CHECK_FALSE(parse_time_or_duration("2024-13-01", now));
}

TEST_CASE("timestamps: /events since/until values", "[images]") {
  CHECK(*parse_unix_timestamp("1795851876") == 1795851876 * kSec);
  CHECK(*parse_unix_timestamp("1795851876.000000001") == 1795851876 * kSec + 1);
  CHECK(*parse_unix_timestamp("1795851876.1") == 1795851876 * kSec + 100'000'000);
  CHECK(*parse_unix_timestamp("2024-01-01T00:00:00Z") == 1704067200 * kSec);
  CHECK_FALSE(parse_unix_timestamp("abc"));
  CHECK_FALSE(parse_unix_timestamp(""));
  CHECK_FALSE(parse_unix_timestamp("10m"));
}
