// Runs the built imaged binary for end-to-end tests: a TempDir with the socket, the data root
// and the daemon's log; helpers for curl and the docker CLI against it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace imaged::testing {

struct DaemonOptions {
  std::vector<std::string> args;  // extra flags (after --data-root and -H)
  std::map<std::string, std::string> env;
  bool add_host = true;  // pass -H unix://<dir>/imaged.sock
  bool wait = true;      // wait until _ping answers
};

class Daemon {
 public:
  explicit Daemon(DaemonOptions options = {});
  ~Daemon();  // SIGKILL if still running

  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& data_root() const { return data_root_; }
  const TempDir& dir() const { return dir_; }
  Process& process() { return *process_; }

  // True once GET /_ping answers on the socket (polls up to timeout).
  bool wait_ready(std::chrono::milliseconds timeout);
  // The daemon's stderr so far.
  std::string log() const;
  // Polls the log until it contains `text`.
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout) const;

  // curl -sS --unix-socket <socket> args...
  RunResult curl(const std::vector<std::string>& args) const;
  // docker args... with DOCKER_HOST=unix://<socket> and a private DOCKER_CONFIG
  // (<dir>/docker-config).
  RunResult docker(const std::vector<std::string>& args,
                   std::map<std::string, std::string> env = {},
                   std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;
  // A shell script (bash -c) with `docker` pointing at the daemon as docker() does; `stdin_data`
  // is written to its stdin.
  RunResult shell(const std::string& script, std::string stdin_data = {},
                  std::chrono::milliseconds timeout = std::chrono::seconds(120)) const;

 private:
  TempDir dir_{"imaged-daemon"};
  std::filesystem::path socket_ = dir_ / "imaged.sock";
  std::filesystem::path data_root_ = dir_ / "root";
  std::filesystem::path log_ = dir_ / "daemon.log";
  std::unique_ptr<Process> process_;
};

// dockerd 20.10 side by side (scripts/dockerd-side.sh start <dir> <mirror>), stopped when the
// object goes away. `started` is false (with a WARN) where dockerd cannot run; `host` is the
// value for `docker -H`.
struct Dockerd {
  explicit Dockerd(const std::string& mirror);
  ~Dockerd();
  Dockerd(const Dockerd&) = delete;
  Dockerd& operator=(const Dockerd&) = delete;

  TempDir dir{"dd"};
  bool started = false;
  std::string host;  // unix://<dir>/docker.sock
};

// The docker CLI found in PATH (as `command -v docker`), or "" when there is none.
std::string docker_cli();

// Options for a daemon whose Docker Hub mirror is `mirror` ("127.0.0.1:PORT", plain HTTP).
DaemonOptions mirrored(const std::string& mirror);

// GET /_ping over a Unix socket; true on a 200 "OK".
bool ping(const std::filesystem::path& socket);

}  // namespace imaged::testing
