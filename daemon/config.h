// Daemon configuration: command-line flags named as dockerd's, an optional JSON config file with
// the same keys, and embedded defaults that depend on who runs the daemon.
//
// Pure: parse_config() takes argv, the environment (as a value) and a file reader, and returns a
// Config or an Error with a message fit for the terminal. Nothing here touches the system.
//
// Precedence, as dockerd: a flag and the file may not both set the same directive (a conflict is
// an error listing both values); otherwise a flag's value is used, else the file's, else the
// default. Unknown file keys are an error.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imaged::daemon {

enum class LogLevel { Debug, Info, Warn, Error, Fatal };

// "debug|info|warn|error|fatal" ("warning" also accepted); InvalidArgument otherwise.
Result<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

// One -H value.
struct HostSpec {
  enum class Kind { Unix, Tcp, Fd } kind = Kind::Unix;
  std::filesystem::path path;  // Unix
  std::string host;            // Tcp: "127.0.0.1", "::1" (no brackets), "" = all addresses
  int port = 0;                // Tcp
  std::string fd_name;         // Fd: "" = every activated socket; else a name or number
  std::string text;            // canonical form, for logs: "unix:///run/imaged.sock"

  friend bool operator==(const HostSpec&, const HostSpec&) = default;
};

// Parses "unix:///path", "unix://" (default_unix_socket), "tcp://host:port", "tcp://:port",
// "tcp://[::1]:port", "tcp://host" (port 2375), "fd://", "fd://name".
// InvalidArgument "Invalid bind address format: X" otherwise.
Result<HostSpec> parse_host(std::string_view text,
                            const std::filesystem::path& default_unix_socket);

struct Config {
  enum class Action { Run, PrintVersion, PrintHelp } action = Action::Run;

  std::vector<HostSpec> hosts;  // never empty when action == Run
  std::filesystem::path data_root;
  std::string group;                                 // socket group; "" = none
  std::optional<std::filesystem::path> config_file;  // the file that was read, if any
  LogLevel log_level = LogLevel::Info;
  std::vector<std::string> registry_mirrors;     // normalised: "https://mirror.example/"
  std::vector<std::string> insecure_registries;  // "host:port" or CIDR
  int max_concurrent_downloads = 3;
};

// What parse_config needs to know about the process (current_environment() reads the real one).
struct Environment {
  uid_t euid = 0;
  std::string home;
  std::string xdg_runtime_dir;
  std::string xdg_data_home;
  std::string xdg_config_home;
  std::filesystem::path cwd = "/";
  bool socket_activation = false;  // LISTEN_FDS/LISTEN_PID hand us sockets
};
Environment current_environment();

// Defaults: root → /run/imaged.sock, /var/lib/imaged, /etc/imaged/daemon.json, group "imaged";
// non-root → $XDG_RUNTIME_DIR/imaged.sock, $XDG_DATA_HOME/imaged (or ~/.local/share/imaged),
// $XDG_CONFIG_HOME/imaged/daemon.json (or ~/.config/...), no group.
Result<std::filesystem::path> default_unix_socket(const Environment& env);
std::filesystem::path default_data_root(const Environment& env);
std::filesystem::path default_config_file(const Environment& env);

// Reads a file: its text, nullopt when it does not exist, or an Error.
using FileReader = std::function<Result<std::optional<std::string>>(const std::filesystem::path&)>;
FileReader real_file_reader();

// argv without argv[0]. The default config file is read when present; a --config-file must exist.
Result<Config> parse_config(std::span<const std::string> args, const Environment& env,
                            const FileReader& read_file);

// The --help text and the --version line.
std::string usage_text();
std::string version_text();

}  // namespace imaged::daemon
