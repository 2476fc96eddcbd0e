// Output formatting for imagectl: docker's size and duration wording (go-units), a small
// Go-template-like substitution engine, and aligned tables (text/tabwriter semantics).
//
// Pure functions; no I/O. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace imaged::client {

// go-units HumanSizeWithPrecision: decimal units, "%.<precision>g" then the unit:
// 1984162 -> "1.98MB" (precision 3), "1.984MB" (precision 4); 0 -> "0B".
std::string human_size(double bytes, int precision = 3);

// go-units HumanDuration: "Less than a second", "About a minute", "2 weeks", ...
std::string human_duration(std::int64_t seconds);

// "2 weeks ago" from a unix time and now (unix seconds); "N/A" for created <= 0.
std::string time_ago(std::int64_t created, std::int64_t now);

// RFC 3339 local-free UTC rendering of unix seconds: "2026-11-28 07:50:04 +0000 UTC" (docker's
// CreatedAt wording).
std::string created_at(std::int64_t created);

// "sha256:77520b0abf60..." -> "77520b0abf60" (12 hex), unless no_trunc (then the full value).
std::string short_id(std::string_view id, bool no_trunc = false);

// Truncates to n characters adding "…" as docker's TruncateWithEllipsis.
std::string ellipsis(std::string_view text, std::size_t n);

// One row of a listing: ordered (field, value) pairs. Field names follow docker's formatter
// (".Repository", ".ID", ...). `json` is what `{{json .}}` prints (defaults to the fields).
struct Row {
  std::vector<std::pair<std::string, std::string>> fields;
  const std::string* get(std::string_view field) const;
  nlohmann::json to_json() const;
};

// A parsed --format. Not full Go templates: only `{{.Field}}`, `{{json .}}`, `{{json .Field}}`,
// literal text, and the escapes `\t` and `\n`; a "table " prefix adds a header row and column
// alignment. `json` alone prints one JSON document (an array of rows).
class Template {
 public:
  enum class Kind { Table, Raw, Json };
  // Errc::InvalidArgument for unknown fields (lists the known ones) or unbalanced braces.
  static Result<Template> parse(std::string_view format, const std::vector<std::string>& fields);

  Kind kind() const { return kind_; }
  // Expands one row (without the trailing newline).
  std::string expand(const Row& row) const;
  // The header row for a table: each {{.Field}} replaced by its header ("IMAGE ID").
  std::string header(const std::map<std::string, std::string>& headers) const;

 private:
  struct Piece {
    enum class Type { Text, Field, JsonAll, JsonField } type;
    std::string text;  // literal text or field name
  };
  Kind kind_ = Kind::Raw;
  std::vector<Piece> pieces_;
};

// Renders rows with `tmpl`: Table -> header + tab-aligned rows (minwidth 10, padding 3, as the
// docker CLI's tabwriter), Raw -> one expanded line per row, Json -> one JSON array.
std::string render(const Template& tmpl, const std::vector<Row>& rows,
                   const std::map<std::string, std::string>& headers);

// Aligns tab-separated lines like Go's text/tabwriter(minwidth 10, tabwidth 1, padding 3):
// cells are padded to the widest cell of their column; the last cell of a line is not padded.
std::string align_table(const std::vector<std::string>& lines);

// Expands a Go-template-like format against a JSON document (inspect -f, events --format):
// `{{.A.B}}` walks object keys (strings print raw, arrays as Go's "[a b]", maps as
// "map[k:v]", missing as "<no value>"), `{{json .}}` / `{{json .A}}` print JSON. Not full Go
// templates. Errc::InvalidArgument for anything else.
Result<std::string> expand_json_template(std::string_view format, const nlohmann::json& doc);

}  // namespace imaged::client
