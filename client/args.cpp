#include "client/args.h"

#include <algorithm>
#include <optional>

namespace imaged::client {

bool ParsedArgs::flag(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return false;
  const auto& v = it->second.back();
  return !(v == "false" || v == "0" || v == "no");
}

bool ParsedArgs::has(const std::string& name) const { return values.contains(name); }

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  if (it == values.end() || it->second.empty()) return fallback;
  return it->second.back();
}

std::vector<std::string> ParsedArgs::all(const std::string& name) const {
  auto it = values.find(name);
  return it == values.end() ? std::vector<std::string>{} : it->second;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args,
                              const std::vector<OptionSpec>& specs, bool stop_at_positional) {
  ParsedArgs out;
  auto by_long = [&](std::string_view n) -> const OptionSpec* {
    for (auto& s : specs)
      if (s.name == n) return &s;
    return nullptr;
  };
  auto by_short = [&](char c) -> const OptionSpec* {
    for (auto& s : specs)
      if (s.short_name == c) return &s;
    return nullptr;
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) out.positionals.push_back(args[i]);
      break;
    }
    if (a.starts_with("--")) {
      std::string name = a.substr(2);
      std::optional<std::string> value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      const OptionSpec* spec = by_long(name);
      if (!spec) return fail(Errc::InvalidArgument, "unknown flag: --" + name);
      if (spec->takes_value && !value) {
        if (i + 1 >= args.size())
          return fail(Errc::InvalidArgument, "flag needs an argument: --" + name);
        value = args[++i];
      }
      out.values[spec->name].push_back(value.value_or("true"));
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      for (std::size_t k = 1; k < a.size(); ++k) {
        const OptionSpec* spec = by_short(a[k]);
        if (!spec)
          return fail(Errc::InvalidArgument,
                      std::string("unknown shorthand flag: '") + a[k] + "' in " + a);
        if (spec->takes_value) {
          std::string value = a.substr(k + 1);
          if (!value.empty() && value[0] == '=') value.erase(0, 1);
          if (value.empty()) {
            if (i + 1 >= args.size())
              return fail(Errc::InvalidArgument,
                          std::string("flag needs an argument: '") + a[k] + "' in -" + a[k]);
            value = args[++i];
          }
          out.values[spec->name].push_back(value);
          break;
        }
        out.values[spec->name].push_back("true");
      }
      continue;
    }
    out.positionals.push_back(a);
    if (stop_at_positional) {
      for (++i; i < args.size(); ++i) out.positionals.push_back(args[i]);
      break;
    }
  }
  return out;
}

std::string options_help(const std::vector<OptionSpec>& specs) {
  std::vector<std::pair<std::string, std::string>> rows;
  std::size_t width = 0;
  for (auto& s : specs) {
    std::string left = s.short_name ? std::string("  -") + s.short_name + ", " : "      ";
    left += "--" + s.name;
    if (s.takes_value) left += " " + (s.value_name.empty() ? std::string("string") : s.value_name);
    width = std::max(width, left.size());
    rows.emplace_back(left, s.help);
  }
  std::string out = "Options:\n";
  for (auto& [l, h] : rows) out += l + std::string(width - l.size() + 3, ' ') + h + "\n";
  return out;
}

}  // namespace imaged::client
