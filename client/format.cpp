#include "client/format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace imaged::client {

std::string human_size(double bytes, int precision) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  int i = 0;
  while (bytes >= 1000.0 && i < 8) {
    bytes /= 1000.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, bytes, kUnits[i]);
  return buf;
}

std::string human_duration(std::int64_t seconds) {
  auto fmt = [](const char* f, long long v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return std::string(buf);
  };
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return fmt("%lld seconds", seconds);
  long long minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return fmt("%lld minutes", minutes);
  long long hours = static_cast<long long>(static_cast<double>(seconds) / 3600.0 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return fmt("%lld hours", hours);
  if (hours < 24 * 7 * 2) return fmt("%lld days", hours / 24);
  if (hours < 24 * 30 * 2) return fmt("%lld weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2) return fmt("%lld months", hours / 24 / 30);
  return fmt("%lld years", seconds / 3600 / 24 / 365);
}

std::string time_ago(std::int64_t created, std::int64_t now) {
  if (created <= 0) return "N/A";
  return human_duration(now - created) + " ago";
}

std::string created_at(std::int64_t created) {
  std::time_t t = created;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
  return buf;
}

std::string short_id(std::string_view id, bool no_trunc) {
  if (no_trunc) return std::string(id);
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, 12));
}

namespace {
std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}
}  // namespace

std::string ellipsis(std::string_view text, std::size_t n) {
  if (display_width(text) <= n) return std::string(text);
  if (n == 0) return "";
  std::string out;
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = text[i];
    if ((c & 0xC0) != 0x80) {
      if (count == n - 1) break;
      ++count;
    }
    out += text[i];
  }
  return out + "…";
}

const std::string* Row::get(std::string_view field) const {
  for (auto& [k, v] : fields)
    if (k == field) return &v;
  return nullptr;
}

nlohmann::json Row::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (auto& [k, v] : fields) j[k] = v;
  return j;
}

Result<Template> Template::parse(std::string_view format, const std::vector<std::string>& fields) {
  Template t;
  std::string f(format);
  auto trimmed = f;
  while (!trimmed.empty() && trimmed.back() == ' ') trimmed.pop_back();
  if (trimmed == "json") {
    t.kind_ = Kind::Json;
    return t;
  }
  if (f.starts_with("table")) {
    t.kind_ = Kind::Table;
    f = f.substr(5);
    if (!f.empty() && f.front() == ' ') f.erase(0, 1);
  }
  // Escapes as the docker CLI: a literal "\t" or "\n" in the argument.
  std::string unescaped;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      unescaped += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      unescaped += f[i];
    }
  }
  auto known = [&](const std::string& name) {
    return std::find(fields.begin(), fields.end(), name) != fields.end();
  };
  auto known_list = [&] {
    std::string s;
    for (auto& x : fields) s += (s.empty() ? "" : ", ") + x;
    return s;
  };
  std::size_t pos = 0;
  while (pos < unescaped.size()) {
    auto open = unescaped.find("{{", pos);
    if (open == std::string::npos) {
      t.pieces_.push_back({Piece::Type::Text, unescaped.substr(pos)});
      break;
    }
    if (open > pos) t.pieces_.push_back({Piece::Type::Text, unescaped.substr(pos, open - pos)});
    auto close = unescaped.find("}}", open);
    if (close == std::string::npos)
      return fail(Errc::InvalidArgument, "invalid --format: unclosed \"{{\"");
    std::string action = unescaped.substr(open + 2, close - open - 2);
    auto strip = [](std::string s) {
      while (!s.empty() && s.front() == ' ') s.erase(0, 1);
      while (!s.empty() && s.back() == ' ') s.pop_back();
      return s;
    };
    action = strip(action);
    if (action == "json .") {
      t.pieces_.push_back({Piece::Type::JsonAll, ""});
    } else if (action.starts_with("json .")) {
      std::string name = strip(action.substr(6));
      if (!known(name))
        return fail(Errc::InvalidArgument,
                    "invalid --format: unknown field ." + name + " (known: " + known_list() + ")");
      t.pieces_.push_back({Piece::Type::JsonField, name});
    } else if (action.starts_with(".") && action.find(' ') == std::string::npos) {
      std::string name = action.substr(1);
      if (!known(name))
        return fail(Errc::InvalidArgument,
                    "invalid --format: unknown field ." + name + " (known: " + known_list() + ")");
      t.pieces_.push_back({Piece::Type::Field, name});
    } else {
      return fail(Errc::InvalidArgument,
                  "invalid --format: unsupported action {{" + action +
                      "}} (imagectl supports {{.Field}}, {{json .}} and {{json .Field}}, not full "
                      "Go templates)");
    }
    pos = close + 2;
  }
  return t;
}

std::string Template::expand(const Row& row) const {
  std::string out;
  for (auto& p : pieces_) {
    switch (p.type) {
      case Piece::Type::Text:
        out += p.text;
        break;
      case Piece::Type::Field:
        if (auto* v = row.get(p.text)) out += *v;
        break;
      case Piece::Type::JsonField:
        out += nlohmann::json(row.get(p.text) ? *row.get(p.text) : std::string()).dump();
        break;
      case Piece::Type::JsonAll:
        out += row.to_json().dump();
        break;
    }
  }
  return out;
}

std::string Template::header(const std::map<std::string, std::string>& headers) const {
  std::string out;
  for (auto& p : pieces_) {
    if (p.type == Piece::Type::Text) {
      out += p.text;
    } else if (p.type == Piece::Type::JsonAll) {
      out += "";
    } else {
      auto it = headers.find(p.text);
      if (it != headers.end()) {
        out += it->second;
      } else {
        std::string up;
        for (char c : p.text) up += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out += up;
      }
    }
  }
  return out;
}

std::string align_table(const std::vector<std::string>& lines) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::size_t> widths;
  for (auto& line : lines) {
    std::vector<std::string> row;
    std::size_t start = 0;
    while (true) {
      auto tab = line.find('\t', start);
      row.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    for (std::size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], display_width(row[i]) + 3);
    }
    cells.push_back(std::move(row));
  }
  for (auto& w : widths) w = std::max<std::size_t>(w, 10);
  std::string out;
  for (auto& row : cells) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]), ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string render(const Template& tmpl, const std::vector<Row>& rows,
                   const std::map<std::string, std::string>& headers) {
  if (tmpl.kind() == Template::Kind::Json) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& r : rows) arr.push_back(r.to_json());
    return arr.dump(2) + "\n";
  }
  std::vector<std::string> lines;
  if (tmpl.kind() == Template::Kind::Table) lines.push_back(tmpl.header(headers));
  for (auto& r : rows) lines.push_back(tmpl.expand(r));
  if (tmpl.kind() == Template::Kind::Table) return align_table(lines);
  std::string out;
  for (auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace imaged::client

namespace imaged::client {

namespace {
std::string go_print(const nlohmann::json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + go_print(v[i]);
    return s + "]";
  }
  if (v.is_object()) {
    std::string s = "map[";
    bool first = true;
    for (auto& [k, x] : v.items()) {
      s += (first ? "" : " ") + k + ":" + go_print(x);
      first = false;
    }
    return s + "]";
  }
  return v.dump();
}

const nlohmann::json* walk(const nlohmann::json& doc, std::string_view path) {
  const nlohmann::json* cur = &doc;
  if (path == ".") return cur;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    auto next = path.find('.', pos);
    std::string key(
        path.substr(pos, next == std::string_view::npos ? std::string_view::npos : next - pos));
    if (!cur->is_object() || !cur->contains(key)) return nullptr;
    cur = &(*cur)[key];
    if (next == std::string_view::npos) break;
    pos = next + 1;
  }
  return cur;
}
}  // namespace

Result<std::string> expand_json_template(std::string_view format, const nlohmann::json& doc) {
  std::string f;
  for (std::size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '\\' && i + 1 < format.size() &&
        (format[i + 1] == 't' || format[i + 1] == 'n')) {
      f += format[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      f += format[i];
    }
  }
  std::string out;
  std::size_t pos = 0;
  while (pos < f.size()) {
    auto open = f.find("{{", pos);
    if (open == std::string::npos) {
      out += f.substr(pos);
      break;
    }
    out += f.substr(pos, open - pos);
    auto close = f.find("}}", open);
    if (close == std::string::npos)
      return fail(Errc::InvalidArgument, "invalid --format: unclosed \"{{\"");
    std::string action = f.substr(open + 2, close - open - 2);
    while (!action.empty() && action.front() == ' ') action.erase(0, 1);
    while (!action.empty() && action.back() == ' ') action.pop_back();
    bool as_json = false;
    if (action.starts_with("json ")) {
      as_json = true;
      action = action.substr(5);
      while (!action.empty() && action.front() == ' ') action.erase(0, 1);
    }
    if (!action.starts_with(".") || action.find(' ') != std::string::npos)
      return fail(Errc::InvalidArgument,
                  "invalid --format: unsupported action {{" + action +
                      "}} (imagectl supports {{.Field}}, {{.A.B}}, {{json .}} and {{json .Field}}, "
                      "not full Go templates)");
    const nlohmann::json* v = walk(doc, action);
    if (as_json)
      out += v ? v->dump() : "null";
    else
      out += v ? go_print(*v) : "<no value>";
    pos = close + 2;
  }
  return out;
}

}  // namespace imaged::client
