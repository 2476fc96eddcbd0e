#include "daemon/config.h"

#include <catch2/catch.hpp>
#include <map>

using imaged::Errc;
using imaged::daemon::Config;
using imaged::daemon::Environment;
using imaged::daemon::HostSpec;
using imaged::daemon::LogLevel;
using imaged::daemon::parse_config;
using imaged::daemon::parse_host;

namespace {

Environment root_env() {
  Environment env;
  env.euid = 0;
  env.home = "/root";
  env.cwd = "/srv";
  return env;
}

Environment user_env() {
  Environment env;
  env.euid = 1000;
  env.home = "/home/ann";
  env.xdg_runtime_dir = "/run/user/1000";
  env.cwd = "/home/ann/work";
  return env;
}

// A file system of config files, by path.
imaged::daemon::FileReader files(std::map<std::string, std::string> contents) {
  return [contents](const std::filesystem::path& p) -> imaged::Result<std::optional<std::string>> {
    auto it = contents.find(p.string());
    if (it == contents.end()) return std::optional<std::string>{};
    return std::optional<std::string>{it->second};
  };
}

imaged::Result<Config> parse(std::vector<std::string> args, const Environment& env = root_env(),
                             std::map<std::string, std::string> fs = {}) {
  return parse_config(args, env, files(std::move(fs)));
}

}  // namespace

TEST_CASE("config: root defaults", "[daemon]") {
  auto c = parse({});
  REQUIRE(c);
  CHECK(c->action == Config::Action::Run);
  REQUIRE(c->hosts.size() == 1);
  CHECK(c->hosts[0].kind == HostSpec::Kind::Unix);
  CHECK(c->hosts[0].path == "/run/imaged.sock");
  CHECK(c->hosts[0].text == "unix:///run/imaged.sock");
  CHECK(c->data_root == "/var/lib/imaged");
  CHECK(c->group == "imaged");
  CHECK(c->log_level == LogLevel::Info);
  CHECK(c->max_concurrent_downloads == 3);
  CHECK(c->registry_mirrors.empty());
  CHECK(c->insecure_registries.empty());
  CHECK_FALSE(c->config_file);
}

TEST_CASE("config: non-root defaults follow XDG", "[daemon]") {
  auto c = parse({}, user_env());
  REQUIRE(c);
  CHECK(c->hosts[0].path == "/run/user/1000/imaged.sock");
  CHECK(c->data_root == "/home/ann/.local/share/imaged");
  CHECK(c->group.empty());

  auto env = user_env();
  env.xdg_data_home = "/data/ann";
  CHECK(parse({}, env)->data_root == "/data/ann/imaged");
}

TEST_CASE("config: non-root without XDG_RUNTIME_DIR must name a socket", "[daemon]") {
  auto env = user_env();
  env.xdg_runtime_dir.clear();
  auto c = parse({}, env);
  REQUIRE_FALSE(c);
  CHECK(c.error().message.find("XDG_RUNTIME_DIR") != std::string::npos);
  CHECK(parse({"-H", "unix:///tmp/x.sock"}, env));
}

TEST_CASE("config: socket activation is the default when systemd passed sockets", "[daemon]") {
  auto env = root_env();
  env.socket_activation = true;
  auto c = parse({}, env);
  REQUIRE(c);
  REQUIRE(c->hosts.size() == 1);
  CHECK(c->hosts[0].kind == HostSpec::Kind::Fd);
  CHECK(c->hosts[0].fd_name.empty());
  // An explicit -H wins over activation.
  auto h = parse({"-H", "unix:///tmp/a.sock"}, env);
  CHECK(h->hosts[0].kind == HostSpec::Kind::Unix);
}

TEST_CASE("config: -H is repeatable, in all its spellings, without duplicates", "[daemon]") {
  auto c = parse({"-H", "unix:///tmp/a.sock", "--host=tcp://127.0.0.1:2375", "-Hfd://", "--host",
                  "unix:///tmp/a.sock", "-H=unix://"});
  REQUIRE(c);
  REQUIRE(c->hosts.size() == 4);
  CHECK(c->hosts[0].text == "unix:///tmp/a.sock");
  CHECK(c->hosts[1].text == "tcp://127.0.0.1:2375");
  CHECK(c->hosts[2].text == "fd://");
  CHECK(c->hosts[3].text == "unix:///run/imaged.sock");
}

TEST_CASE("config: host formats", "[daemon]") {
  auto h = [](std::string_view s) { return parse_host(s, "/run/imaged.sock"); };
  CHECK(h("tcp://0.0.0.0:2376")->text == "tcp://0.0.0.0:2376");
  CHECK(h("tcp://:2375")->host == "127.0.0.1");
  CHECK(h("tcp://example.com")->port == 2375);
  auto v6 = h("tcp://[::1]:2375");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->text == "tcp://[::1]:2375");
  CHECK(h("fd://imaged.socket")->fd_name == "imaged.socket");
  CHECK(h("fd://3")->fd_name == "3");
  for (auto bad : {"tcp://host:0", "tcp://host:99999", "tcp://host:x", "tcp://h:1/path",
                   "ssh://host", "npipe:////./pipe/x", "/run/x.sock", "unix://relative.sock",
                   "tcp://[::1", "tcp://::1:2375"}) {
    INFO(bad);
    auto r = h(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message == std::string("Invalid bind address format: ") + bad);
  }
}

TEST_CASE("config: scalar flags", "[daemon]") {
  auto c = parse({"--data-root", "store", "-G", "docker", "--log-level=debug",
                  "--max-concurrent-downloads", "8"});
  REQUIRE(c);
  CHECK(c->data_root == "/srv/store");  // relative to the working directory
  CHECK(c->group == "docker");
  CHECK(c->log_level == LogLevel::Debug);
  CHECK(c->max_concurrent_downloads == 8);
  CHECK(parse({"-l", "warn"})->log_level == LogLevel::Warn);
  CHECK(parse({"--log-level", "fatal"})->log_level == LogLevel::Fatal);
  CHECK(parse({"--log-level", "error"})->log_level == LogLevel::Error);
  CHECK(parse({"--group", ""})->group.empty());
}

TEST_CASE("config: the last value of a scalar flag wins", "[daemon]") {
  CHECK(parse({"--data-root", "/a", "--data-root", "/b"})->data_root == "/b");
}

TEST_CASE("config: invalid values are clear errors", "[daemon]") {
  CHECK(parse({"--log-level", "loud"}).error().message == "unable to parse logging level: loud");
  CHECK(parse({"--max-concurrent-downloads", "x"}).error().message ==
        "invalid argument \"x\" for \"--max-concurrent-downloads\" flag: strconv.ParseInt: "
        "parsing \"x\": invalid syntax");
  CHECK(parse({"--max-concurrent-downloads=-1"}).error().message ==
        "invalid max concurrent downloads: -1");
  CHECK(parse({"--data-root="}).error().message == "data-root must not be empty");
}

TEST_CASE("config: unknown flags, missing values and arguments are errors", "[daemon]") {
  CHECK(parse({"--bogus"}).error().message == "unknown flag: --bogus");
  CHECK(parse({"-x"}).error().message == "unknown shorthand flag: 'x' in -x");
  CHECK(parse({"--data-root"}).error().message == "flag needs an argument: --data-root");
  CHECK(parse({"-H"}).error().message == "flag needs an argument: 'H' in -H");
  CHECK(parse({"serve"}).error().message.starts_with("imaged accepts no arguments"));
  CHECK(parse({"--version=1"}).error().code == Errc::InvalidArgument);
}

TEST_CASE("config: --version and --help", "[daemon]") {
  CHECK(parse({"--version"})->action == Config::Action::PrintVersion);
  CHECK(parse({"-v"})->action == Config::Action::PrintVersion);
  CHECK(parse({"--help"})->action == Config::Action::PrintHelp);
  CHECK(parse({"-h", "--bogus-after"}).error().message == "unknown flag: --bogus-after");
  CHECK(imaged::daemon::version_text().starts_with("imaged version "));
  CHECK(imaged::daemon::usage_text().find("--data-root") != std::string::npos);
}

TEST_CASE("config: registry mirrors are validated and normalised", "[daemon]") {
  auto c = parse(
      {"--registry-mirror", "https://mirror.gcr.io", "--registry-mirror", "http://10.0.0.5:5000/"});
  REQUIRE(c);
  CHECK(c->registry_mirrors ==
        std::vector<std::string>{"https://mirror.gcr.io/", "http://10.0.0.5:5000/"});
  CHECK(parse({"--registry-mirror", "ftp://m"}).error().message ==
        "invalid mirror: unsupported scheme \"ftp\" in \"ftp://m\"");
  CHECK(parse({"--registry-mirror", "mirror.gcr.io"}).error().message ==
        "invalid mirror: unsupported scheme \"\" in \"mirror.gcr.io\"");
  CHECK(parse({"--registry-mirror", "https://m/?q=1"})
            .error()
            .message.starts_with("invalid mirror: query or fragment"));
  CHECK(parse({"--registry-mirror", "https://u:p@m"})
            .error()
            .message.starts_with("invalid mirror: username/password not allowed"));
}

TEST_CASE("config: insecure registries", "[daemon]") {
  auto c = parse({"--insecure-registry", "127.0.0.1:5000", "--insecure-registry", "10.0.0.0/8"});
  REQUIRE(c);
  CHECK(c->insecure_registries == std::vector<std::string>{"127.0.0.1:5000", "10.0.0.0/8"});
  CHECK(parse({"--insecure-registry", "http://r:5000"}).error().message ==
        "insecure registry http://r:5000 should not contain '://'");
}

TEST_CASE("config: the file supplies the same directives", "[daemon]") {
  auto c = parse({"--config-file", "/etc/x.json"}, root_env(), {{"/etc/x.json", R"({
                   "hosts": ["unix:///tmp/f.sock", "tcp://127.0.0.1:2380"],
                   "data-root": "/data/imaged",
                   "registry-mirrors": ["https://m.example"],
                   "insecure-registries": ["r.local:5000"],
                   "max-concurrent-downloads": 5,
                   "log-level": "warn",
                   "group": "ops"
                 })"}});
  REQUIRE(c);
  CHECK(c->config_file == std::filesystem::path("/etc/x.json"));
  REQUIRE(c->hosts.size() == 2);
  CHECK(c->hosts[1].port == 2380);
  CHECK(c->data_root == "/data/imaged");
  CHECK(c->registry_mirrors == std::vector<std::string>{"https://m.example/"});
  CHECK(c->insecure_registries == std::vector<std::string>{"r.local:5000"});
  CHECK(c->max_concurrent_downloads == 5);
  CHECK(c->log_level == LogLevel::Warn);
  CHECK(c->group == "ops");
}

TEST_CASE("config: the default file is read when present", "[daemon]") {
  auto c = parse({}, root_env(), {{"/etc/imaged/daemon.json", R"({"log-level":"debug"})"}});
  REQUIRE(c);
  CHECK(c->log_level == LogLevel::Debug);
  CHECK(c->config_file == std::filesystem::path("/etc/imaged/daemon.json"));
  auto env = user_env();
  env.xdg_config_home = "/home/ann/.cfg";
  auto u = parse({}, env, {{"/home/ann/.cfg/imaged/daemon.json", R"({"group":"x"})"}});
  CHECK(u->group == "x");
}

TEST_CASE("config: flags and file combine when they set different directives", "[daemon]") {
  auto c = parse({"--config-file", "/c.json", "--log-level", "debug"}, root_env(),
                 {{"/c.json", R"({"data-root":"/d"})"}});
  REQUIRE(c);
  CHECK(c->log_level == LogLevel::Debug);
  CHECK(c->data_root == "/d");
}

TEST_CASE("config: a directive set by flag and file is a conflict, as dockerd", "[daemon]") {
  auto c = parse({"--config-file", "/c.json", "-H", "unix:///tmp/a.sock", "--group", "g1"},
                 root_env(), {{"/c.json", R"({"hosts":["tcp://127.0.0.1:2376"],"group":"g2"})"}});
  REQUIRE_FALSE(c);
  CHECK(c.error().message ==
        "unable to configure the imaged daemon with file /c.json: the following directives are "
        "specified both as a flag and in the configuration file: group: (from flag: g1, from "
        "file: g2), hosts: (from flag: [unix:///tmp/a.sock], from file: [tcp://127.0.0.1:2376])");
}

TEST_CASE("config: unknown file keys are an error naming them", "[daemon]") {
  auto c = parse({"--config-file", "/c.json"}, root_env(),
                 {{"/c.json", R"({"bogus":1,"debug":true,"log-level":"info"})"}});
  REQUIRE_FALSE(c);
  CHECK(c.error().message ==
        "unable to configure the imaged daemon with file /c.json: the following directives "
        "don't match any configuration option: bogus, debug");
}

TEST_CASE("config: malformed or mistyped files are errors", "[daemon]") {
  auto bad_json = parse({"--config-file", "/c.json"}, root_env(), {{"/c.json", "{"}});
  REQUIRE_FALSE(bad_json);
  CHECK(
      bad_json.error().message.starts_with("unable to configure the imaged daemon with file "
                                           "/c.json: "));
  auto type = parse({"--config-file", "/c.json"}, root_env(), {{"/c.json", R"({"hosts":"x"})"}});
  CHECK(type.error().message.ends_with("\"hosts\" must be an array of strings"));
  auto num = parse({"--config-file", "/c.json"}, root_env(),
                   {{"/c.json", R"({"max-concurrent-downloads":"3"})"}});
  CHECK(num.error().message.ends_with("\"max-concurrent-downloads\" must be an integer"));
  auto arr = parse({"--config-file", "/c.json"}, root_env(), {{"/c.json", "[]"}});
  CHECK(arr.error().message.ends_with("the configuration must be a JSON object"));
}

TEST_CASE("config: a named config file must exist", "[daemon]") {
  auto c = parse({"--config-file", "missing.json"});
  REQUIRE_FALSE(c);
  CHECK(c.error().code == Errc::NotFound);
  CHECK(c.error().message.find("/srv/missing.json") != std::string::npos);
}

TEST_CASE("config: file values are validated like flags", "[daemon]") {
  auto c = parse({"--config-file", "/c.json"}, root_env(),
                 {{"/c.json", R"({"max-concurrent-downloads":-2})"}});
  CHECK(c.error().message == "invalid max concurrent downloads: -2");
  auto h = parse({"--config-file", "/c.json"}, root_env(), {{"/c.json", R"({"hosts":["x"]})"}});
  CHECK(h.error().message == "Invalid bind address format: x");
}
