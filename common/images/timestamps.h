// Time values as the Engine API writes and reads them: RFC 3339 with nanoseconds (Go's
// time.RFC3339Nano), and the `since` / `until` / `until=` filter values dockerd accepts
// (moby's api/types/time: GetTimestamp + ParseTimestamps). Pure functions, thread-safe.
//
// All instants are int64 nanoseconds since the Unix epoch, UTC. The daemon's "local" zone for
// zone-less inputs is UTC (imaged runs on servers in UTC; dockerd would use its TZ).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged::images {

// Go's zero time.Time (0001-01-01T00:00:00Z) in ns since the epoch does not fit in int64; this
// sentinel stands for it wherever a time is "unset".
inline constexpr int64_t kZeroTimeNs = INT64_MIN;
// time.Time{}.Unix(): what dockerd prints for a missing history "created".
inline constexpr int64_t kZeroTimeUnix = -62135596800;

// "2024-01-01T00:00:00.123456789Z" / "…+02:00" → ns since the epoch (the fraction kept, up to
// 9 digits). InvalidArgument "invalid RFC 3339 time \"x\"" otherwise. Years before 1678 or
// after 2262 (outside int64 ns) are InvalidArgument too, except that the exact zero time
// "0001-01-01T00:00:00Z" gives kZeroTimeNs.
Result<int64_t> parse_rfc3339_ns(std::string_view text);

// Go's t.UTC().Format(time.RFC3339Nano): trailing zeros of the fraction trimmed, "Z" zone.
// kZeroTimeNs → "0001-01-01T00:00:00Z".
std::string format_rfc3339_nano(int64_t ns);

// Unix seconds of an instant (floor), kZeroTimeUnix for kZeroTimeNs.
int64_t unix_seconds(int64_t ns);

// The wall clock now, in ns since the epoch (system_clock).
int64_t now_unix_ns();

// moby's timetypes.GetTimestamp followed by ParseTimestamps, as dockerd applies it to `until`
// filters and to the CLI's --since/--until: a Go duration ("10m", "1h30m", "-5s"; subtracted
// from now), an RFC 3339 time or a shorter date form ("2024-01-02", "2024-01-02T15",
// "2024-01-02T15:04", with or without zone), or unix seconds with an optional fraction
// ("1700000000", "1700000000.5"). InvalidArgument with dockerd's message
// "failed to parse value as time or duration: \"x\"" otherwise.
Result<int64_t> parse_time_or_duration(std::string_view value, int64_t now_ns);

// dockerd's ParseTimestamps for /events since/until: "sec[.nanos]" only (the CLI converts other
// forms); an RFC 3339 time is accepted too. InvalidArgument otherwise.
Result<int64_t> parse_unix_timestamp(std::string_view value);

}  // namespace imaged::images
