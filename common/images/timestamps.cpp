#include "common/images/timestamps.h"

#include <chrono>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

namespace imaged::images {

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t y;
  unsigned m, d;
};
Civil civil_from_days(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// A small cursor over the text being parsed.
struct Scan {
  std::string_view s;
  size_t pos = 0;
  bool done() const { return pos >= s.size(); }
  bool peek(char c) const { return pos < s.size() && s[pos] == c; }
  bool eat(char c) {
    if (!peek(c)) return false;
    ++pos;
    return true;
  }
  // Exactly n digits.
  std::optional<int> digits(size_t n) {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = 0; i < n; ++i) {
      char c = s[pos + i];
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    pos += n;
    return v;
  }
};

// Date and optional time with optional zone: the RFC 3339 family and moby's shorter forms.
// `require_full` demands seconds and a zone (strict RFC 3339).
struct Parsed {
  int64_t seconds = 0;  // since the epoch, zone applied
  int64_t nanos = 0;
};
std::optional<Parsed> parse_date_time(std::string_view text, bool require_full) {
  Scan sc{text};
  auto y = sc.digits(4);
  if (!y || !sc.eat('-')) return std::nullopt;
  auto mo = sc.digits(2);
  if (!mo || !sc.eat('-')) return std::nullopt;
  auto d = sc.digits(2);
  if (!d || *mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
  int h = 0, mi = 0, se = 0;
  int64_t nanos = 0;
  bool has_time = false, has_seconds = false;
  if (sc.eat('T') || sc.eat('t')) {
    has_time = true;
    auto hh = sc.digits(2);
    if (!hh) return std::nullopt;
    h = *hh;
    if (sc.peek(':') && sc.pos + 3 <= text.size() &&
        std::isdigit((unsigned char)text[sc.pos + 1])) {
      sc.eat(':');
      auto mm = sc.digits(2);
      if (!mm) return std::nullopt;
      mi = *mm;
      if (sc.peek(':') && sc.pos + 3 <= text.size() &&
          std::isdigit((unsigned char)text[sc.pos + 1])) {
        sc.eat(':');
        auto ss = sc.digits(2);
        if (!ss) return std::nullopt;
        se = *ss;
        has_seconds = true;
        if (sc.eat('.')) {
          size_t start = sc.pos;
          int64_t frac = 0;
          size_t n = 0;
          while (!sc.done() && std::isdigit((unsigned char)text[sc.pos])) {
            if (n < 9) frac = frac * 10 + (text[sc.pos] - '0'), ++n;
            ++sc.pos;
          }
          if (sc.pos == start) return std::nullopt;
          while (n < 9) frac *= 10, ++n;
          nanos = frac;
        }
      }
    }
    if (h > 23 || mi > 59 || se > 60) return std::nullopt;
  }
  int offset_minutes = 0;
  bool has_zone = false;
  if (sc.eat('Z') || sc.eat('z')) {
    has_zone = true;
  } else if (sc.peek('+') || sc.peek('-')) {
    const int sign = text[sc.pos] == '-' ? -1 : 1;
    ++sc.pos;
    auto oh = sc.digits(2);
    if (!oh || !sc.eat(':')) return std::nullopt;
    auto om = sc.digits(2);
    if (!om) return std::nullopt;
    offset_minutes = sign * (*oh * 60 + *om);
    has_zone = true;
  }
  if (!sc.done()) return std::nullopt;
  if (require_full && (!has_time || !has_seconds || !has_zone)) return std::nullopt;
  const int64_t days = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d));
  Parsed p;
  p.seconds = days * 86400 + h * 3600 + mi * 60 + se - offset_minutes * 60;
  p.nanos = nanos;
  return p;
}

std::optional<int64_t> to_ns(const Parsed& p) {
  // int64 ns covers 1677-09-21 .. 2262-04-11.
  constexpr int64_t kMaxSec = std::numeric_limits<int64_t>::max() / kNsPerSec - 1;
  if (p.seconds > kMaxSec || p.seconds < -kMaxSec) return std::nullopt;
  return p.seconds * kNsPerSec + p.nanos;
}

// Go's time.ParseDuration. nullopt when the text is not a duration.
std::optional<int64_t> parse_go_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  long double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    long double v = 0;
    bool any = false;
    while (i < s.size() && std::isdigit((unsigned char)s[i]))
      v = v * 10 + (s[i++] - '0'), any = true;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && std::isdigit((unsigned char)s[i])) {
        v += (s[i++] - '0') * scale;
        scale /= 10;
        any = true;
      }
    }
    if (!any) return std::nullopt;
    size_t u = i;
    while (u < s.size() && !std::isdigit((unsigned char)s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(i, u - i);
    long double mult;
    if (unit == "ns")
      mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
      mult = 1e3L;
    else if (unit == "ms")
      mult = 1e6L;
    else if (unit == "s")
      mult = 1e9L;
    else if (unit == "m")
      mult = 60e9L;
    else if (unit == "h")
      mult = 3600e9L;
    else
      return std::nullopt;
    total += v * mult;
    s.remove_prefix(u);
  }
  if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  const int64_t ns = static_cast<int64_t>(total);
  return neg ? -ns : ns;
}

// "sec[.nanos]" as moby's ParseTimestamps: the fraction is right-padded to 9 digits.
std::optional<int64_t> parse_sec_nanos(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-') neg = true, i = 1;
  int64_t sec = 0;
  size_t start = i;
  while (i < s.size() && std::isdigit((unsigned char)s[i])) {
    if (sec > (std::numeric_limits<int64_t>::max() / kNsPerSec)) return std::nullopt;
    sec = sec * 10 + (s[i++] - '0');
  }
  if (i == start) return std::nullopt;
  int64_t nanos = 0;
  if (i < s.size()) {
    if (s[i] != '.') return std::nullopt;
    ++i;
    size_t n = 0;
    size_t fstart = i;
    while (i < s.size() && std::isdigit((unsigned char)s[i])) {
      if (n < 9) nanos = nanos * 10 + (s[i] - '0'), ++n;
      ++i;
    }
    if (i != s.size() || i == fstart) return std::nullopt;
    while (n < 9) nanos *= 10, ++n;
  }
  if (sec > std::numeric_limits<int64_t>::max() / kNsPerSec - 1) return std::nullopt;
  const int64_t ns = sec * kNsPerSec + nanos;
  return neg ? -ns : ns;
}

}  // namespace

Result<int64_t> parse_rfc3339_ns(std::string_view text) {
  auto p = parse_date_time(text, /*require_full=*/true);
  if (!p) return fail(Errc::InvalidArgument, "invalid RFC 3339 time \"" + std::string(text) + "\"");
  if (p->seconds == kZeroTimeUnix && p->nanos == 0) return kZeroTimeNs;
  auto ns = to_ns(*p);
  if (!ns) return fail(Errc::InvalidArgument, "time out of range \"" + std::string(text) + "\"");
  return *ns;
}

std::string format_rfc3339_nano(int64_t ns) {
  if (ns == kZeroTimeNs) return "0001-01-01T00:00:00Z";
  const int64_t secs = floor_div(ns, kNsPerSec);
  const int64_t frac = ns - secs * kNsPerSec;
  const int64_t days = floor_div(secs, 86400);
  const int64_t rem = secs - days * 86400;
  const Civil c = civil_from_days(days);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d", static_cast<long long>(c.y),
                c.m, c.d, static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                static_cast<int>(rem % 60));
  std::string out = buf;
  if (frac != 0) {
    char f[16];
    std::snprintf(f, sizeof(f), ".%09lld", static_cast<long long>(frac));
    std::string fs = f;
    while (fs.back() == '0') fs.pop_back();
    out += fs;
  }
  out += 'Z';
  return out;
}

int64_t now_unix_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t unix_seconds(int64_t ns) {
  if (ns == kZeroTimeNs) return kZeroTimeUnix;
  return floor_div(ns, kNsPerSec);
}

Result<int64_t> parse_time_or_duration(std::string_view value, int64_t now_ns) {
  // 1. A duration counts back from now ("0" is a timestamp, as in moby).
  if (value != "0") {
    if (auto d = parse_go_duration(value)) return now_ns - *d;
  }
  // 2. Dates and times, with or without zone (zone-less = the daemon's zone, UTC).
  if (auto p = parse_date_time(value, /*require_full=*/false)) {
    if (auto ns = to_ns(*p)) return *ns;
  }
  // 3. A value with '-' that is no date is an error; else unix seconds.
  if (value.find('-') == std::string_view::npos) {
    if (auto ns = parse_sec_nanos(value)) return *ns;
  }
  return fail(Errc::InvalidArgument,
              "failed to parse value as time or duration: \"" + std::string(value) + "\"");
}

Result<int64_t> parse_unix_timestamp(std::string_view value) {
  if (auto ns = parse_sec_nanos(value)) return *ns;
  if (auto p = parse_date_time(value, /*require_full=*/true)) {
    if (auto ns = to_ns(*p)) return *ns;
  }
  return fail(Errc::InvalidArgument, "invalid timestamp \"" + std::string(value) +
                                         "\": expected unix seconds[.nanoseconds]");
}

}  // namespace imaged::images
