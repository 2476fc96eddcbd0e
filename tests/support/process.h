// Child processes for tests: the daemon, the registry, the docker CLI, curl, scripts.
//
// Process owns one child; its destructor kills (SIGKILL) and reaps it if still running.
// run() is the one-shot form: runs to completion with a deadline and captures output.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace imaged::testing {

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or overriding) the test's environment
  std::optional<std::filesystem::path> cwd;
  std::optional<std::filesystem::path> stdout_file;  // default: captured (run) or /dev/null
  std::optional<std::filesystem::path> stderr_file;  // default: captured (run) or /dev/null
  std::string stdin_data;                            // written to the child's stdin, then closed
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal or timed out
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Runs argv to completion; kills it after `timeout`. argv[0] is looked up in PATH.
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const ProcessOptions& options = {});

// Runs `bash -c script` (with `set -euo pipefail`) to completion.
RunResult run_shell(const std::string& script, std::chrono::milliseconds timeout,
                    const ProcessOptions& options = {});

class Process {
 public:
  // Starts argv in the background; throws std::runtime_error if exec fails.
  Process(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~Process();
  Process(Process&&) noexcept;
  Process& operator=(Process&&) = delete;
  Process(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Waits for exit up to `timeout`; returns the exit code, -1 for a signal, nullopt on timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Polls `ready` every 20 ms until it returns true or `timeout` passes.
bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

// Absolute path of a file in the source tree (tests/harness/registry.sh) or the build tree.
std::filesystem::path source_path(const std::string& relative);
std::filesystem::path binary_path(const std::string& relative);

}  // namespace imaged::testing
