#include "daemon/config.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api_version.h"
#include "daemon/build_info.h"

namespace imaged::daemon {

namespace {

namespace fs = std::filesystem;

// The file keys; flags map onto them.
constexpr std::string_view kHosts = "hosts";
constexpr std::string_view kDataRoot = "data-root";
constexpr std::string_view kGroup = "group";
constexpr std::string_view kLogLevel = "log-level";
constexpr std::string_view kMirrors = "registry-mirrors";
constexpr std::string_view kInsecure = "insecure-registries";
constexpr std::string_view kMaxDownloads = "max-concurrent-downloads";

struct FlagDef {
  std::string_view long_name;
  char short_name;       // 0 = none
  std::string_view key;  // file key, or "config-file"/"version"/"help"
  bool takes_value;
  bool list;  // list-valued (repeatable) directive
};

constexpr FlagDef kFlags[] = {
    {"host", 'H', kHosts, true, true},
    {"data-root", 0, kDataRoot, true, false},
    {"group", 'G', kGroup, true, false},
    {"log-level", 'l', kLogLevel, true, false},
    {"registry-mirror", 0, kMirrors, true, true},
    {"insecure-registry", 0, kInsecure, true, true},
    {"max-concurrent-downloads", 0, kMaxDownloads, true, false},
    {"config-file", 0, "config-file", true, false},
    {"version", 'v', "version", false, false},
    {"help", 'h', "help", false, false},
};

const FlagDef* find_long(std::string_view name) {
  for (const auto& f : kFlags)
    if (f.long_name == name) return &f;
  return nullptr;
}

const FlagDef* find_short(char c) {
  for (const auto& f : kFlags)
    if (f.short_name == c) return &f;
  return nullptr;
}

bool is_list_key(std::string_view key) {
  return key == kHosts || key == kMirrors || key == kInsecure;
}

// Directive values by key. Scalars hold one value.
using Values = std::map<std::string, std::vector<std::string>, std::less<>>;

struct Flags {
  Values values;
  std::optional<std::string> config_file;
  bool version = false;
  bool help = false;
};

Result<Flags> parse_flags(std::span<const std::string> args) {
  Flags flags;
  auto set = [&](const FlagDef& def, std::string value) {
    if (def.key == "config-file")
      flags.config_file = std::move(value);
    else if (def.key == "version")
      flags.version = true;
    else if (def.key == "help")
      flags.help = true;
    else if (def.list)
      flags.values[std::string(def.key)].push_back(std::move(value));
    else
      flags.values[std::string(def.key)] = {std::move(value)};  // last one wins (pflag)
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg.starts_with("--") && arg.size() > 2) {
      std::string_view body = arg.substr(2);
      auto eq = body.find('=');
      std::string_view name = body.substr(0, eq);
      const FlagDef* def = find_long(name);
      if (!def) return fail(Errc::InvalidArgument, "unknown flag: --" + std::string(name));
      if (!def->takes_value) {
        if (eq != std::string_view::npos)
          return fail(Errc::InvalidArgument,
                      "flag --" + std::string(name) + " does not take a value");
        set(*def, "");
        continue;
      }
      if (eq != std::string_view::npos) {
        set(*def, std::string(body.substr(eq + 1)));
      } else {
        if (i + 1 >= args.size())
          return fail(Errc::InvalidArgument, "flag needs an argument: --" + std::string(name));
        set(*def, args[++i]);
      }
    } else if (arg.starts_with("-") && arg.size() > 1 && arg != "--") {
      // Short flags: -H value, -Hvalue, -H=value; boolean ones may be grouped (-vh).
      for (std::size_t j = 1; j < arg.size(); ++j) {
        const FlagDef* def = find_short(arg[j]);
        if (!def)
          return fail(Errc::InvalidArgument, "unknown shorthand flag: '" + std::string(1, arg[j]) +
                                                 "' in " + std::string(arg));
        if (!def->takes_value) {
          set(*def, "");
          continue;
        }
        std::string_view rest = arg.substr(j + 1);
        if (rest.starts_with("=")) rest.remove_prefix(1);
        if (!rest.empty()) {
          set(*def, std::string(rest));
        } else if (j + 1 == arg.size()) {
          if (i + 1 >= args.size())
            return fail(
                Errc::InvalidArgument,
                "flag needs an argument: '" + std::string(1, arg[j]) + "' in " + std::string(arg));
          set(*def, args[++i]);
        }
        break;
      }
    } else {
      return fail(Errc::InvalidArgument, "imaged accepts no arguments, got \"" + std::string(arg) +
                                             "\"\nSee 'imaged --help'.");
    }
  }
  return flags;
}

// Parses the JSON config file into directive values (validating keys and types).
Result<Values> parse_file(const std::string& text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return fail(Errc::InvalidArgument, e.what());
  }
  if (!doc.is_object())
    return fail(Errc::InvalidArgument, "the configuration must be a JSON object");
  std::vector<std::string> unknown;
  Values values;
  for (const auto& [key, value] : doc.items()) {
    bool known = key == kHosts || key == kDataRoot || key == kGroup || key == kLogLevel ||
                 key == kMirrors || key == kInsecure || key == kMaxDownloads;
    if (!known) {
      unknown.push_back(key);
      continue;
    }
    auto& out = values[key];
    if (is_list_key(key)) {
      if (!value.is_array())
        return fail(Errc::InvalidArgument, "\"" + key + "\" must be an array of strings");
      for (const auto& v : value) {
        if (!v.is_string())
          return fail(Errc::InvalidArgument, "\"" + key + "\" must be an array of strings");
        out.push_back(v.get<std::string>());
      }
    } else if (key == kMaxDownloads) {
      if (!value.is_number_integer())
        return fail(Errc::InvalidArgument, "\"" + key + "\" must be an integer");
      out.push_back(std::to_string(value.get<long long>()));
    } else {
      if (!value.is_string())
        return fail(Errc::InvalidArgument, "\"" + key + "\" must be a string");
      out.push_back(value.get<std::string>());
    }
  }
  if (!unknown.empty()) {
    std::sort(unknown.begin(), unknown.end());
    std::string list;
    for (const auto& k : unknown) list += (list.empty() ? "" : ", ") + k;
    return fail(Errc::InvalidArgument,
                "the following directives don't match any configuration option: " + list);
  }
  return values;
}

// Go's %v of a directive: "[a b]" for lists, the value for scalars.
std::string show(std::string_view key, const std::vector<std::string>& values) {
  if (!is_list_key(key)) return values.empty() ? "" : values.front();
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) out += (i ? " " : "") + values[i];
  return out + "]";
}

Result<std::string> normalize_mirror(const std::string& mirror) {
  auto scheme_end = mirror.find("://");
  if (scheme_end == std::string::npos)
    return fail(Errc::InvalidArgument,
                "invalid mirror: unsupported scheme \"\" in \"" + mirror + "\"");
  std::string scheme = mirror.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return fail(Errc::InvalidArgument,
                "invalid mirror: unsupported scheme \"" + scheme + "\" in \"" + mirror + "\"");
  std::string rest = mirror.substr(scheme_end + 3);
  if (rest.empty() || rest.front() == '/')
    return fail(Errc::InvalidArgument, "invalid mirror: no host in \"" + mirror + "\"");
  if (rest.find_first_of("?#") != std::string::npos)
    return fail(Errc::InvalidArgument,
                "invalid mirror: query or fragment at end of the URI \"" + mirror + "\"");
  auto slash = rest.find('/');
  if (rest.substr(0, slash).find('@') != std::string::npos)
    return fail(Errc::InvalidArgument, "invalid mirror: username/password not allowed in URI \"" +
                                           scheme + "://" + rest.substr(rest.find('@') + 1) + "\"");
  std::string out = mirror;
  while (out.ends_with("/")) out.pop_back();
  return out + "/";
}

Status validate_insecure(const std::string& entry) {
  if (entry.find("://") != std::string::npos)
    return fail(Errc::InvalidArgument, "insecure registry " + entry + " should not contain '://'");
  if (entry.empty()) return fail(Errc::InvalidArgument, "insecure registry must not be empty");
  return {};
}

Result<int> parse_max_downloads(const std::string& text, bool from_flag) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    if (from_flag)
      return fail(Errc::InvalidArgument, "invalid argument \"" + text +
                                             "\" for \"--max-concurrent-downloads\" flag: "
                                             "strconv.ParseInt: parsing \"" +
                                             text + "\": invalid syntax");
    return fail(Errc::InvalidArgument, "invalid max concurrent downloads: " + text);
  }
  if (value < 0) return fail(Errc::InvalidArgument, "invalid max concurrent downloads: " + text);
  return value;
}

fs::path absolute_in(const fs::path& p, const fs::path& cwd) {
  return (p.is_absolute() ? p : cwd / p).lexically_normal();
}

std::string getenv_or(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

Result<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warn" || text == "warning") return LogLevel::Warn;
  if (text == "error") return LogLevel::Error;
  if (text == "fatal") return LogLevel::Fatal;
  return fail(Errc::InvalidArgument, "unable to parse logging level: " + std::string(text));
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Fatal:
      return "fatal";
  }
  return "info";
}

Result<HostSpec> parse_host(std::string_view text, const fs::path& default_unix_socket) {
  auto invalid = [&] {
    return fail(Errc::InvalidArgument, "Invalid bind address format: " + std::string(text));
  };
  HostSpec spec;
  if (text.starts_with("unix://")) {
    std::string_view path = text.substr(7);
    spec.kind = HostSpec::Kind::Unix;
    spec.path = path.empty() ? default_unix_socket : fs::path(path);
    if (!spec.path.is_absolute()) return invalid();
    spec.text = "unix://" + spec.path.string();
    return spec;
  }
  if (text.starts_with("fd://")) {
    spec.kind = HostSpec::Kind::Fd;
    spec.fd_name = std::string(text.substr(5));
    if (spec.fd_name.find('/') != std::string::npos) return invalid();
    spec.text = "fd://" + spec.fd_name;
    return spec;
  }
  if (text.starts_with("tcp://")) {
    std::string_view rest = text.substr(6);
    if (rest.ends_with("/")) rest.remove_suffix(1);
    if (rest.find('/') != std::string_view::npos) return invalid();
    std::string_view host = rest, port_text;
    if (rest.starts_with("[")) {
      auto close = rest.find(']');
      if (close == std::string_view::npos) return invalid();
      host = rest.substr(1, close - 1);
      std::string_view after = rest.substr(close + 1);
      if (!after.empty()) {
        if (!after.starts_with(":")) return invalid();
        port_text = after.substr(1);
      }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port_text = rest.substr(colon + 1);
      if (host.find(':') != std::string_view::npos) return invalid();  // bare IPv6
    }
    int port = 2375;
    if (!port_text.empty()) {
      auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
      if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
          port > 65535)
        return invalid();
    }
    spec.kind = HostSpec::Kind::Tcp;
    spec.host = host.empty() ? "127.0.0.1" : std::string(host);
    spec.port = port;
    bool v6 = spec.host.find(':') != std::string::npos;
    spec.text = "tcp://" + (v6 ? "[" + spec.host + "]" : spec.host) + ":" + std::to_string(port);
    return spec;
  }
  return invalid();
}

Environment current_environment() {
  Environment env;
  env.euid = ::geteuid();
  env.home = getenv_or("HOME");
  env.xdg_runtime_dir = getenv_or("XDG_RUNTIME_DIR");
  env.xdg_data_home = getenv_or("XDG_DATA_HOME");
  env.xdg_config_home = getenv_or("XDG_CONFIG_HOME");
  std::error_code ec;
  env.cwd = fs::current_path(ec);
  if (ec) env.cwd = "/";
  // sd_listen_fds() semantics: the fds are ours only when LISTEN_PID is our pid.
  std::string pid = getenv_or("LISTEN_PID");
  env.socket_activation =
      !getenv_or("LISTEN_FDS").empty() && (pid.empty() || pid == std::to_string(::getpid()));
  return env;
}

Result<fs::path> default_unix_socket(const Environment& env) {
  if (env.euid == 0) return fs::path("/run/imaged.sock");
  if (env.xdg_runtime_dir.empty())
    return fail(Errc::InvalidArgument,
                "XDG_RUNTIME_DIR is not set: give the socket with -H unix:///path/imaged.sock");
  return fs::path(env.xdg_runtime_dir) / "imaged.sock";
}

fs::path default_data_root(const Environment& env) {
  if (env.euid == 0) return "/var/lib/imaged";
  if (!env.xdg_data_home.empty()) return fs::path(env.xdg_data_home) / "imaged";
  return fs::path(env.home.empty() ? "/" : env.home) / ".local/share/imaged";
}

fs::path default_config_file(const Environment& env) {
  if (env.euid == 0) return "/etc/imaged/daemon.json";
  if (!env.xdg_config_home.empty()) return fs::path(env.xdg_config_home) / "imaged/daemon.json";
  return fs::path(env.home.empty() ? "/" : env.home) / ".config/imaged/daemon.json";
}

FileReader real_file_reader() {
  return [](const fs::path& path) -> Result<std::optional<std::string>> {
    std::error_code ec;
    if (!fs::exists(path, ec)) return std::optional<std::string>{};
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::PermissionDenied, "cannot read " + path.string());
    std::ostringstream out;
    out << in.rdbuf();
    return std::optional<std::string>{out.str()};
  };
}

Result<Config> parse_config(std::span<const std::string> args, const Environment& env,
                            const FileReader& read_file) {
  Config config;
  auto flags = IMAGED_TRY(parse_flags(args));
  if (flags.help) {
    config.action = Config::Action::PrintHelp;
    return config;
  }
  if (flags.version) {
    config.action = Config::Action::PrintVersion;
    return config;
  }

  // 1. The config file: --config-file must exist; the default one is optional.
  Values file_values;
  fs::path file_path =
      flags.config_file ? absolute_in(*flags.config_file, env.cwd) : default_config_file(env);
  auto text = read_file(file_path);
  if (!text) return fail(text.error());
  if (!*text && flags.config_file)
    return fail(Errc::NotFound, "unable to configure the imaged daemon with file " +
                                    file_path.string() + ": open " + file_path.string() +
                                    ": no such file or directory");
  if (*text) {
    auto parsed = parse_file(**text);
    if (!parsed)
      return fail(parsed.error().context("unable to configure the imaged daemon with file " +
                                         file_path.string()));
    file_values = std::move(*parsed);
    config.config_file = file_path;
  }

  // 2. Conflicts: a directive given both ways is an error, as dockerd reports it.
  std::string conflicts;
  for (const auto& [key, flag_value] : flags.values) {
    auto it = file_values.find(key);
    if (it == file_values.end()) continue;
    conflicts += (conflicts.empty() ? "" : ", ") + key + ": (from flag: " + show(key, flag_value) +
                 ", from file: " + show(key, it->second) + ")";
  }
  if (!conflicts.empty())
    return fail(Errc::InvalidArgument,
                "unable to configure the imaged daemon with file " + file_path.string() +
                    ": the following directives are specified both as a flag and in the "
                    "configuration file: " +
                    conflicts);

  // 3. Merge: flag, else file, else default.
  auto lookup = [&](std::string_view key) -> const std::vector<std::string>* {
    if (auto it = flags.values.find(key); it != flags.values.end()) return &it->second;
    if (auto it = file_values.find(key); it != file_values.end()) return &it->second;
    return nullptr;
  };
  auto scalar = [&](std::string_view key) -> std::optional<std::string> {
    auto* v = lookup(key);
    if (!v || v->empty()) return std::nullopt;
    return v->back();
  };

  if (auto level = scalar(kLogLevel)) config.log_level = IMAGED_TRY(parse_log_level(*level));

  if (auto root = scalar(kDataRoot)) {
    if (root->empty()) return fail(Errc::InvalidArgument, "data-root must not be empty");
    config.data_root = absolute_in(*root, env.cwd);
  } else {
    config.data_root = default_data_root(env);
  }

  if (auto group = scalar(kGroup))
    config.group = *group;
  else
    config.group = env.euid == 0 ? "imaged" : "";

  if (auto n = scalar(kMaxDownloads))
    config.max_concurrent_downloads =
        IMAGED_TRY(parse_max_downloads(*n, flags.values.contains(kMaxDownloads)));

  if (auto* mirrors = lookup(kMirrors))
    for (const auto& m : *mirrors)
      config.registry_mirrors.push_back(IMAGED_TRY(normalize_mirror(m)));

  if (auto* insecure = lookup(kInsecure)) {
    for (const auto& r : *insecure) {
      IMAGED_TRY(validate_insecure(r));
      config.insecure_registries.push_back(r);
    }
  }

  // 4. Hosts: given ones, else the activated sockets, else the default Unix socket.
  const auto* hosts = lookup(kHosts);
  if (hosts && !hosts->empty()) {
    fs::path def;
    if (auto d = default_unix_socket(env)) def = *d;
    for (const auto& h : *hosts) {
      if (h == "unix://" && def.empty()) return fail(default_unix_socket(env).error());
      auto spec = IMAGED_TRY(parse_host(h, def));
      if (std::find(config.hosts.begin(), config.hosts.end(), spec) == config.hosts.end())
        config.hosts.push_back(std::move(spec));
    }
  } else if (env.socket_activation) {
    config.hosts.push_back(IMAGED_TRY(parse_host("fd://", {})));
  } else {
    auto def = IMAGED_TRY(default_unix_socket(env));
    config.hosts.push_back(IMAGED_TRY(parse_host("unix://", def)));
  }
  return config;
}

std::string usage_text() {
  return R"(Usage:	imaged [OPTIONS]

A daemon that owns the host's container-image store and serves the Docker Engine API.

Options:
      --config-file string              Daemon configuration file (default: /etc/imaged/daemon.json
                                        as root, $XDG_CONFIG_HOME/imaged/daemon.json otherwise)
      --data-root string                Root directory of persistent state (default
                                        "/var/lib/imaged"; rootless: $XDG_DATA_HOME/imaged)
  -G, --group string                    Group for the unix socket (default "imaged" as root)
  -h, --help                            Print usage
  -H, --host list                       Daemon socket(s) to connect to: unix:///path, tcp://host:port,
                                        fd:// (systemd socket activation)
      --insecure-registry list          Enable insecure registry communication
  -l, --log-level string                Set the logging level ("debug"|"info"|"warn"|"error"|"fatal")
                                        (default "info")
      --max-concurrent-downloads int    Set the max concurrent downloads (default 3)
      --registry-mirror list            Preferred registry mirror
  -v, --version                         Print version information and quit
)";
}

std::string version_text() {
  const auto& b = build_info();
  std::string out = "imaged version " + b.version;
  if (!b.git_commit.empty()) out += ", build " + b.git_commit;
  out += " (API " + std::string(api::kMaxApiVersionText) + ", minimum " +
         std::string(api::kMinApiVersionText) + ")\n";
  return out;
}

}  // namespace imaged::daemon
