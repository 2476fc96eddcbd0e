#include "common/images/dockerfile_changes.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace imaged::images {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

Error bad(std::string message) { return Error{Errc::InvalidArgument, std::move(message)}; }

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Words split on blanks, as a shell would: quotes group and are removed, a backslash escapes the
// next character (outside single quotes).
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
    } else if (is_space(c)) {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      in_word = true;
      if (c == '"' || c == '\'') {
        quote = c;
      } else if (c == '\\' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
    }
  }
  if (in_word) out.push_back(std::move(cur));
  return out;
}

// A JSON array of strings (the exec form), nullopt otherwise.
std::optional<std::vector<std::string>> json_list(std::string_view s) {
  if (s.empty() || s.front() != '[') return std::nullopt;
  json j = json::parse(s, nullptr, false);
  if (!j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& x : j) {
    if (!x.is_string()) return std::nullopt;
    out.push_back(x.get<std::string>());
  }
  return out;
}

std::vector<std::string> command(std::string_view rest) {
  if (auto list = json_list(rest)) return *list;
  return {"/bin/sh", "-c", std::string(rest)};
}

// ENV and LABEL arguments: `k=v k2="v 2"`, or the legacy `k value…`.
Result<std::vector<std::pair<std::string, std::string>>> name_values(std::string_view keyword,
                                                                     std::string_view rest) {
  std::vector<std::pair<std::string, std::string>> out;
  auto first = words(rest);
  if (first.empty()) return fail(bad(std::string(keyword) + " requires at least one argument"));
  if (first[0].find('=') == std::string::npos) {
    auto blank = std::find_if(rest.begin(), rest.end(), is_space);
    if (blank == rest.end()) return fail(bad(std::string(keyword) + " must have two arguments"));
    out.emplace_back(first[0], std::string(trim(std::string_view(blank, rest.end()))));
    return out;
  }
  for (const std::string& w : first) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      return fail(bad(std::string(keyword) + " names can not be blank"));
    out.emplace_back(w.substr(0, eq), w.substr(eq + 1));
  }
  return out;
}

// filepath.Clean for '/'-separated paths.
std::string clean_path(std::string_view p) {
  const bool absolute = !p.empty() && p.front() == '/';
  std::vector<std::string_view> parts;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string_view::npos) j = p.size();
    std::string_view part = p.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!absolute) {
        parts.push_back(part);
      }
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = absolute ? "/" : "";
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + std::string(parts[k]);
  return out.empty() ? "." : out;
}

Status expose(ContainerConfig& config, std::string_view rest) {
  const auto ports = words(rest);
  if (ports.empty()) return fail(bad("EXPOSE requires at least one argument"));
  for (const std::string& spec : ports) {
    std::string port = spec, proto = "tcp";
    if (auto slash = spec.find('/'); slash != std::string::npos) {
      port = spec.substr(0, slash);
      proto = lower(spec.substr(slash + 1));
    }
    int lo = 0, hi = 0;
    const auto dash = port.find('-');
    const std::string a = port.substr(0, dash);
    const std::string b = dash == std::string::npos ? a : port.substr(dash + 1);
    auto ra = std::from_chars(a.data(), a.data() + a.size(), lo);
    auto rb = std::from_chars(b.data(), b.data() + b.size(), hi);
    if (a.empty() || b.empty() || ra.ec != std::errc{} || ra.ptr != a.data() + a.size() ||
        rb.ec != std::errc{} || rb.ptr != b.data() + b.size() || lo < 0 || hi > 65535 || lo > hi)
      return fail(bad("invalid containerPort: " + port));
    if (proto != "tcp" && proto != "udp" && proto != "sctp")
      return fail(bad("invalid proto: " + proto));
    for (int p = lo; p <= hi; ++p) config.exposed_ports.insert(std::to_string(p) + "/" + proto);
  }
  return {};
}

// Go's time.ParseDuration for what HEALTHCHECK flags take ("30s", "1m30s", "500ms").
std::optional<int64_t> duration_ns(std::string_view s) {
  static const std::pair<std::string_view, int64_t> kUnits[] = {{"ns", 1},
                                                                {"us", 1'000},
                                                                {"ms", 1'000'000},
                                                                {"s", 1'000'000'000},
                                                                {"m", 60'000'000'000},
                                                                {"h", 3'600'000'000'000}};
  if (s == "0") return 0;
  if (s.empty()) return std::nullopt;
  int64_t total = 0;
  while (!s.empty()) {
    size_t digits = 0;
    while (digits < s.size() && std::isdigit(static_cast<unsigned char>(s[digits]))) ++digits;
    if (digits == 0) return std::nullopt;
    int64_t n = 0;
    std::from_chars(s.data(), s.data() + digits, n);
    s.remove_prefix(digits);
    bool matched = false;
    for (auto [unit, scale] : kUnits) {
      // "ms" before "m" and "s": the longest unit that matches.
      if (s.starts_with(unit) && !(unit == "m" && s.starts_with("ms"))) {
        total += n * scale;
        s.remove_prefix(unit.size());
        matched = true;
        break;
      }
    }
    if (!matched) return std::nullopt;
  }
  return total;
}

Status healthcheck(ContainerConfig& config, std::string_view rest) {
  ContainerConfig::Health h;
  auto parts = words(rest);
  size_t i = 0;
  for (; i < parts.size() && parts[i].starts_with("--"); ++i) {
    const auto eq = parts[i].find('=');
    const std::string flag = parts[i].substr(2, eq == std::string::npos ? eq : eq - 2);
    const std::string value = eq == std::string::npos ? "" : parts[i].substr(eq + 1);
    if (flag == "retries") {
      auto r = std::from_chars(value.data(), value.data() + value.size(), h.retries);
      if (r.ec != std::errc{} || r.ptr != value.data() + value.size() || h.retries < 0)
        return fail(bad("invalid argument \"" + value + "\" for --retries"));
      continue;
    }
    int64_t* target = flag == "interval"       ? &h.interval
                      : flag == "timeout"      ? &h.timeout
                      : flag == "start-period" ? &h.start_period
                                               : nullptr;
    if (!target) return fail(bad("Unknown flag: " + flag));
    auto d = duration_ns(value);
    if (!d) return fail(bad("time: invalid duration \"" + value + "\""));
    *target = *d;
  }
  if (i == parts.size()) return fail(bad("Missing command after HEALTHCHECK"));
  const std::string type = [&] {
    std::string t = parts[i];
    for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return t;
  }();
  if (type == "NONE") {
    if (i + 1 != parts.size() || i != 0) return fail(bad("HEALTHCHECK NONE takes no arguments"));
    h.test = {"NONE"};
  } else if (type == "CMD") {
    // The text after CMD, as written.
    const size_t at = rest.find(parts[i]) + parts[i].size();
    const std::string_view cmd = trim(rest.substr(std::min(at, rest.size())));
    if (cmd.empty()) return fail(bad("Missing command after HEALTHCHECK CMD"));
    if (auto list = json_list(cmd)) {
      h.test = {"CMD"};
      h.test.insert(h.test.end(), list->begin(), list->end());
    } else {
      h.test = {"CMD-SHELL", std::string(cmd)};
    }
  } else {
    return fail(bad("Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)"));
  }
  config.healthcheck = std::move(h);
  return {};
}

ordered_json strings_or_null(const std::optional<std::vector<std::string>>& v) {
  return v ? ordered_json(*v) : ordered_json(nullptr);
}

}  // namespace

Status apply_dockerfile_changes(ContainerConfig& config, const std::vector<std::string>& changes) {
  bool cmd_set = false;
  for (const std::string& change : changes) {
    std::string_view line = trim(change);
    if (line.empty() || line.front() == '#') continue;
    const auto blank = std::find_if(line.begin(), line.end(), is_space);
    const std::string keyword = lower(std::string_view(line.begin(), blank));
    const std::string_view rest = trim(std::string_view(blank, line.end()));
    const std::string upper = [&] {
      std::string u = keyword;
      for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      return u;
    }();
    auto need_argument = [&]() -> Status {
      if (rest.empty()) return fail(bad(upper + " requires at least one argument"));
      return {};
    };
    if (keyword == "cmd") {
      IMAGED_TRY(need_argument());
      config.cmd = command(rest);
      cmd_set = true;
    } else if (keyword == "entrypoint") {
      IMAGED_TRY(need_argument());
      config.entrypoint = command(rest);
      if (!cmd_set) config.cmd.reset();
    } else if (keyword == "env") {
      auto pairs = IMAGED_TRY(name_values(upper, rest));
      if (!config.env) config.env.emplace();
      for (auto& [k, v] : pairs) {
        const std::string entry = k + "=" + v;
        auto same = std::find_if(config.env->begin(), config.env->end(),
                                 [&](const auto& e) { return e.substr(0, e.find('=')) == k; });
        if (same != config.env->end()) {
          *same = entry;
        } else {
          config.env->push_back(entry);
        }
      }
    } else if (keyword == "label") {
      auto pairs = IMAGED_TRY(name_values(upper, rest));
      if (!config.labels) config.labels.emplace();
      for (auto& [k, v] : pairs) (*config.labels)[k] = v;
    } else if (keyword == "expose") {
      IMAGED_TRY(expose(config, rest));
    } else if (keyword == "user") {
      IMAGED_TRY(need_argument());
      config.user = std::string(rest);
    } else if (keyword == "workdir") {
      IMAGED_TRY(need_argument());
      config.working_dir = rest.front() == '/'
                               ? std::string(rest)
                               : clean_path("/" + config.working_dir + "/" + std::string(rest));
    } else if (keyword == "volume") {
      IMAGED_TRY(need_argument());
      auto list = json_list(rest);
      const std::vector<std::string> paths = list ? *list : words(rest);
      if (!config.volumes) config.volumes.emplace();
      for (const std::string& p : paths) {
        const std::string_view v = trim(p);
        if (v.empty()) return fail(bad("VOLUME specified can not be an empty string"));
        config.volumes->insert(std::string(v));
      }
    } else if (keyword == "onbuild") {
      IMAGED_TRY(need_argument());
      const auto b = std::find_if(rest.begin(), rest.end(), is_space);
      const std::string trigger = lower(std::string_view(rest.begin(), b));
      if (trigger == "onbuild")
        return fail(bad("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"));
      if (trigger == "from" || trigger == "maintainer") {
        std::string t = trigger;
        for (char& c : t) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        return fail(bad(t + " isn't allowed as an ONBUILD trigger"));
      }
      if (!config.on_build) config.on_build.emplace();
      config.on_build->push_back(std::string(rest));
    } else if (keyword == "healthcheck") {
      IMAGED_TRY(need_argument());
      IMAGED_TRY(healthcheck(config, rest));
    } else if (keyword == "stopsignal") {
      IMAGED_TRY(need_argument());
      config.stop_signal = std::string(rest);
    } else {
      return fail(bad(keyword + " is not a valid change command"));
    }
  }
  return {};
}

ordered_json container_config_json(const ContainerConfig& c) {
  ordered_json j;
  j["Hostname"] = "";
  j["Domainname"] = "";
  j["User"] = c.user;
  j["AttachStdin"] = false;
  j["AttachStdout"] = false;
  j["AttachStderr"] = false;
  if (!c.exposed_ports.empty()) {
    ordered_json ports = ordered_json::object();
    for (const auto& p : c.exposed_ports) ports[p] = ordered_json::object();
    j["ExposedPorts"] = std::move(ports);
  }
  j["Tty"] = false;
  j["OpenStdin"] = false;
  j["StdinOnce"] = false;
  j["Env"] = strings_or_null(c.env);
  j["Cmd"] = strings_or_null(c.cmd);
  if (c.healthcheck) {
    ordered_json h = ordered_json::object();
    if (!c.healthcheck->test.empty()) h["Test"] = c.healthcheck->test;
    if (c.healthcheck->interval) h["Interval"] = c.healthcheck->interval;
    if (c.healthcheck->timeout) h["Timeout"] = c.healthcheck->timeout;
    if (c.healthcheck->start_period) h["StartPeriod"] = c.healthcheck->start_period;
    if (c.healthcheck->retries) h["Retries"] = c.healthcheck->retries;
    j["Healthcheck"] = std::move(h);
  }
  j["Image"] = "";
  if (c.volumes) {
    ordered_json v = ordered_json::object();
    for (const auto& p : *c.volumes) v[p] = ordered_json::object();
    j["Volumes"] = std::move(v);
  } else {
    j["Volumes"] = nullptr;
  }
  j["WorkingDir"] = c.working_dir;
  j["Entrypoint"] = strings_or_null(c.entrypoint);
  j["OnBuild"] = strings_or_null(c.on_build);
  j["Labels"] = c.labels ? ordered_json(*c.labels) : ordered_json(nullptr);
  if (!c.stop_signal.empty()) j["StopSignal"] = c.stop_signal;
  return j;
}

}  // namespace imaged::images
