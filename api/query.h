// Query-string helpers shared by all routes: percent-decoding, the multi-valued query map,
// dockerd's boolean rule and the `filters` parameter.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imaged::api {

// Decodes %XX escapes; with `plus_is_space` (query strings, as Go's url.ParseQuery) '+' becomes
// ' '. InvalidArgument on a malformed escape.
Result<std::string> percent_decode(std::string_view text, bool plus_is_space);

// dockerd's httputils.BoolValue on a raw value: "", "0", "no", "false", "none" (trimmed,
// case-insensitive) are false, anything else true. (`force=False` from docker-py is false.)
bool parse_bool(std::string_view value);

// The decoded query: repeated keys keep every value in order (`names=a&names=b`).
class QueryParams {
 public:
  QueryParams() = default;
  // Parses "a=1&b=x%20y&names=a&names=b"; InvalidArgument on bad escapes.
  static Result<QueryParams> parse(std::string_view query);

  void add(std::string key, std::string value);
  bool has(std::string_view key) const;
  // The first value of key, if present.
  std::optional<std::string> get(std::string_view key) const;
  // The first value or "" (Go's r.FormValue).
  std::string value(std::string_view key) const;
  std::vector<std::string> get_all(std::string_view key) const;
  // dockerd's BoolValue: absent → false; BoolValueOrDefault: absent or "" → def.
  bool get_bool(std::string_view key) const;
  bool get_bool_or(std::string_view key, bool def) const;
  // Absent or "" → nullopt; not an integer → InvalidArgument (as strconv.ParseInt's message).
  Result<std::optional<std::int64_t>> get_int(std::string_view key) const;

  const std::multimap<std::string, std::string, std::less<>>& all() const { return values_; }

 private:
  std::multimap<std::string, std::string, std::less<>> values_;
};

// moby's filters.Args: key → set of values. Parsed from `{"k":{"v":true}}` or the legacy
// `{"k":["v"]}`; the booleans are ignored as dockerd does.
class Filters {
 public:
  Filters() = default;
  // "" → empty. Malformed JSON → InvalidArgument ("invalid JSON: ..."), as current moby.
  static Result<Filters> parse(std::string_view json_text);

  // Unknown key → InvalidArgument "Invalid filter 'bogus'".
  Status validate(std::span<const std::string_view> allowed) const;

  bool empty() const { return fields_.empty(); }
  bool contains(std::string_view key) const;
  // The values of key, sorted (empty when absent).
  std::vector<std::string> get(std::string_view key) const;
  // True when key is absent, or has `value` among its values (moby's ExactMatch).
  bool exact_match(std::string_view key, std::string_view value) const;
  // moby's GetBoolOrDefault: absent → def; true/false values (1/0 too) → that; several values or
  // another value → InvalidArgument.
  Result<bool> get_bool_or(std::string_view key, bool def) const;

  void add(std::string key, std::string value);
  const std::map<std::string, std::set<std::string>, std::less<>>& fields() const {
    return fields_;
  }

 private:
  std::map<std::string, std::set<std::string>, std::less<>> fields_;
};

// Convenience for routes: parses and validates `filters` from the query in one step.
Result<Filters> parse_filters(const QueryParams& query, std::span<const std::string_view> allowed);

}  // namespace imaged::api
