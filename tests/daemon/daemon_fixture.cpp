#include "tests/daemon/daemon_fixture.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "tests/api/raw_http.h"

namespace imaged::testing {

using namespace std::chrono_literals;

bool ping(const std::filesystem::path& socket) {
  try {
    RawHttp c(socket);
    c.send("GET /_ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto res = c.read_response(2s);
    return res && status_of(*res) == 200 && body_of(*res) == "OK";
  } catch (const std::exception&) {
    return false;
  }
}

Daemon::Daemon(DaemonOptions options) {
  std::vector<std::string> argv{binary_path("daemon/imaged").string(), "--data-root",
                                data_root_.string()};
  if (options.add_host) {
    argv.push_back("-H");
    argv.push_back("unix://" + socket_.string());
  }
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  ProcessOptions po;
  po.env = options.env;
  po.stderr_file = log_;
  process_ = std::make_unique<Process>(argv, po);
  if (options.wait) wait_ready(20s);
}

Daemon::~Daemon() = default;

bool Daemon::wait_ready(std::chrono::milliseconds timeout) {
  return wait_until([&] { return ping(socket_); }, timeout);
}

std::string Daemon::log() const {
  std::ifstream in(log_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Daemon::wait_log(const std::string& text, std::chrono::milliseconds timeout) const {
  return wait_until([&] { return log().find(text) != std::string::npos; }, timeout);
}

RunResult Daemon::curl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"curl", "-sS", "--unix-socket", socket_.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv, 30s);
}

RunResult Daemon::docker(const std::vector<std::string>& args,
                         std::map<std::string, std::string> env,
                         std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv{"docker"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions po;
  po.env = std::move(env);
  po.env["DOCKER_HOST"] = "unix://" + socket_.string();
  po.env["DOCKER_CONFIG"] = (dir_ / "docker-config").string();
  return run(argv, timeout, po);
}

RunResult Daemon::shell(const std::string& script, std::string stdin_data,
                        std::chrono::milliseconds timeout) const {
  ProcessOptions po;
  po.env["DOCKER_HOST"] = "unix://" + socket_.string();
  po.env["DOCKER_CONFIG"] = (dir_ / "docker-config").string();
  po.stdin_data = std::move(stdin_data);
  return run_shell(script, timeout, po);
}

std::string docker_cli() {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    const auto colon = dirs.find(':');
    const std::filesystem::path candidate = std::filesystem::path(dirs.substr(0, colon)) / "docker";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return "";
}

DaemonOptions mirrored(const std::string& mirror) {
  return {.args = {"--registry-mirror", "http://" + mirror, "--insecure-registry", mirror}};
}

Dockerd::Dockerd(const std::string& mirror) {
  auto r =
      run({source_path("scripts/dockerd-side.sh").string(), "start", dir.path().string(), mirror},
          std::chrono::seconds(90));
  started = r.exit_code == 0;
  if (started) host = "unix://" + (dir / "docker.sock").string();
  if (!started) WARN("dockerd did not start: " << r.err);
}

Dockerd::~Dockerd() {
  run({source_path("scripts/dockerd-side.sh").string(), "stop", dir.path().string()},
      std::chrono::seconds(60));
}

}  // namespace imaged::testing
