#include "api/query.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace imaged::api {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' ||
                        s.front() == '\r' || s.front() == '\v' || s.front() == '\f'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' ||
                        s.back() == '\r' || s.back() == '\v' || s.back() == '\f'))
    s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

Result<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return fail(Errc::InvalidArgument,
                    "invalid URL escape \"" +
                        std::string(text.substr(i, std::min<std::size_t>(3, text.size() - i))) +
                        "\"");
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool parse_bool(std::string_view value) {
  value = trim(value);
  return !(value.empty() || value == "0" || iequals(value, "no") || iequals(value, "false") ||
           iequals(value, "none"));
}

Result<QueryParams> QueryParams::parse(std::string_view query) {
  QueryParams params;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = IMAGED_TRY(percent_decode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) value = IMAGED_TRY(percent_decode(pair.substr(eq + 1), true));
    params.add(std::move(key), std::move(value));
  }
  return params;
}

void QueryParams::add(std::string key, std::string value) {
  values_.emplace(std::move(key), std::move(value));
}

bool QueryParams::has(std::string_view key) const { return values_.find(key) != values_.end(); }

std::optional<std::string> QueryParams::get(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string QueryParams::value(std::string_view key) const { return get(key).value_or(""); }

std::vector<std::string> QueryParams::get_all(std::string_view key) const {
  std::vector<std::string> out;
  auto [first, last] = values_.equal_range(key);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

bool QueryParams::get_bool(std::string_view key) const { return parse_bool(value(key)); }

bool QueryParams::get_bool_or(std::string_view key, bool def) const {
  auto v = get(key);
  if (!v || v->empty()) return def;
  return parse_bool(*v);
}

Result<std::optional<std::int64_t>> QueryParams::get_int(std::string_view key) const {
  auto v = get(key);
  if (!v || v->empty()) return std::optional<std::int64_t>{};
  std::int64_t out = 0;
  const char* begin = v->data();
  const char* end = v->data() + v->size();
  if (begin != end && *begin == '+') ++begin;  // Go's ParseInt accepts a leading sign
  auto [ptr, ec] = std::from_chars(begin, end, out);
  if (ec == std::errc::result_out_of_range) {
    return fail(Errc::InvalidArgument,
                "strconv.ParseInt: parsing \"" + *v + "\": value out of range");
  }
  if (ec != std::errc() || ptr != end || begin == end) {
    return fail(Errc::InvalidArgument, "strconv.ParseInt: parsing \"" + *v + "\": invalid syntax");
  }
  return std::optional<std::int64_t>{out};
}

Result<Filters> Filters::parse(std::string_view json_text) {
  Filters filters;
  if (json_text.empty()) return filters;
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(Errc::InvalidArgument, std::string("invalid JSON: ") + e.what());
  }
  if (doc.is_null()) return filters;  // Go unmarshals `null` into an empty map
  if (!doc.is_object()) {
    return fail(Errc::InvalidArgument,
                "invalid JSON: filters must be an object, got " + std::string(doc.type_name()));
  }
  // Either every value is {"v":bool} (current) or every value is ["v", ...] (legacy); a mix or
  // any other shape fails both of moby's decodings.
  bool all_maps = true, all_arrays = true;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_null()) continue;  // Go leaves a null map/slice empty
    bool map_ok = value.is_object();
    if (map_ok)
      for (const auto& [_, b] : value.items()) map_ok = map_ok && (b.is_boolean() || b.is_null());
    bool array_ok = value.is_array();
    if (array_ok)
      for (const auto& s : value) array_ok = array_ok && (s.is_string() || s.is_null());
    all_maps = all_maps && map_ok;
    all_arrays = all_arrays && array_ok;
  }
  if (!all_maps && !all_arrays) {
    return fail(
        Errc::InvalidArgument,
        "invalid JSON: filters must be {\"key\":{\"value\":true}} or {\"key\":[\"value\"]}");
  }
  for (const auto& [key, value] : doc.items()) {
    auto& set = filters.fields_[key];
    if (value.is_object()) {
      for (const auto& [v, _] : value.items()) set.insert(v);
    } else if (value.is_array()) {
      for (const auto& v : value)
        if (v.is_string()) set.insert(v.get<std::string>());
    }
  }
  return filters;
}

Status Filters::validate(std::span<const std::string_view> allowed) const {
  for (const auto& [key, _] : fields_) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
      return fail(Errc::InvalidArgument, "Invalid filter '" + key + "'");
  }
  return {};
}

bool Filters::contains(std::string_view key) const { return fields_.find(key) != fields_.end(); }

std::vector<std::string> Filters::get(std::string_view key) const {
  auto it = fields_.find(key);
  if (it == fields_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

bool Filters::exact_match(std::string_view key, std::string_view value) const {
  auto it = fields_.find(key);
  if (it == fields_.end() || it->second.empty()) return true;
  return it->second.find(std::string(value)) != it->second.end();
}

Result<bool> Filters::get_bool_or(std::string_view key, bool def) const {
  auto it = fields_.find(key);
  if (it == fields_.end() || it->second.empty()) return def;
  if (it->second.size() > 1) {
    return fail(Errc::InvalidArgument, "invalid filter '" + std::string(key) + "'");
  }
  const std::string& v = *it->second.begin();
  if (iequals(v, "true") || v == "1") return true;
  if (iequals(v, "false") || v == "0") return false;
  return fail(Errc::InvalidArgument, "invalid filter '" + std::string(key) + "=" + v + "'");
}

void Filters::add(std::string key, std::string value) {
  fields_[std::move(key)].insert(std::move(value));
}

Result<Filters> parse_filters(const QueryParams& query, std::span<const std::string_view> allowed) {
  auto filters = IMAGED_TRY(Filters::parse(query.value("filters")));
  IMAGED_TRY(filters.validate(allowed));
  return filters;
}

}  // namespace imaged::api
