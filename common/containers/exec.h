// Exec: one `docker exec` process in a running container (moby's ExecConfig and its start).
//
// Created with its configuration, started once; its process joins the container's namespaces
// (launcher.h launch_exec) and runs until it exits. pump() copies the process's output to a
// client socket (multiplexed frames, or raw bytes with a TTY; none when detached) and the
// client's bytes to its stdin, then reaps it and records the exit code, which GET
// /exec/{id}/json reports (the CLI exits with it).
//
// Thread safety: state() and resize() from any thread; pump() from the one thread that started
// the process.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/containers/container.h"

namespace imaged::containers {

struct ExecConfig {
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // added to (or overriding) the container's
  std::string user;              // "" = the container's
  std::string working_dir;       // "" = the container's
  bool tty = false;
  bool attach_stdin = false, attach_stdout = false, attach_stderr = false;
  bool privileged = false;
};

// The parent's ends of a started exec process.
struct ExecProcess {
  pid_t pid = -1;
  Container::Streams streams;  // stdout_read is the terminal's master side with a TTY
};

class Exec {
 public:
  Exec(std::string id, std::shared_ptr<Container> container, ExecConfig config)
      : id_(std::move(id)), container_(std::move(container)), config_(std::move(config)) {}
  const std::string& id() const { return id_; }
  const std::shared_ptr<Container>& container() const { return container_; }
  const ExecConfig& config() const { return config_; }

  struct State {
    bool started = false;
    bool running = false;
    pid_t pid = 0;
    std::optional<int> exit_code;
  };
  State state() const;
  // Marks it started; false when it already was (an exec runs once).
  bool claim();
  // Records a start that failed before the command ran (exit code 126/127 as dockerd).
  void record_failed_start(int exit_code);
  // Runs until the process exits (see the header comment); `client` is the hijacked socket or
  // invalid (detached); `pending` are stdin bytes the client sent with the request. Returns
  // the exit code.
  int pump(ExecProcess process, content::UniqueFd client, std::string pending);
  // Sets the terminal size; false without a running TTY.
  bool resize(unsigned short rows, unsigned short cols) const;

 private:
  const std::string id_;
  const std::shared_ptr<Container> container_;
  const ExecConfig config_;
  mutable std::mutex mu_;
  State state_;
  int terminal_fd_ = -1;
};

}  // namespace imaged::containers
