#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

namespace imaged::testing {

namespace {

using Clock = std::chrono::steady_clock;

// Redirects fd `target` to `file` (created/truncated) in the child.
void redirect_to(int target, const std::filesystem::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) ::dup2(fd, target);
}

// Forks and execs argv; pipes are set for the fds given (-1 = not piped).
pid_t spawn(const std::vector<std::string>& argv, const ProcessOptions& options, int in_pipe[2],
            int out_pipe[2], int err_pipe[2]) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::setpgid(0, 0);  // own process group: kill() reaches grandchildren too
    // The test runner (Catch2) installs signal handlers; the child must not run them between
    // fork and exec, and must start with default dispositions and an empty mask.
    for (int sig = 1; sig < NSIG; ++sig) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (const auto& [k, v] : options.env) ::setenv(k.c_str(), v.c_str(), 1);
    if (options.cwd && ::chdir(options.cwd->c_str()) != 0) ::_exit(126);
    if (in_pipe)
      ::dup2(in_pipe[0], 0);
    else {
      int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
    }
    if (options.stdout_file)
      redirect_to(1, *options.stdout_file);
    else if (out_pipe)
      ::dup2(out_pipe[1], 1);
    else
      redirect_to(1, "/dev/null");
    if (options.stderr_file)
      redirect_to(2, *options.stderr_file);
    else if (err_pipe)
      ::dup2(err_pipe[1], 2);
    else
      redirect_to(2, "/dev/null");
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

}  // namespace

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
              const ProcessOptions& options) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) || ::pipe2(out_pipe, O_CLOEXEC) || ::pipe2(err_pipe, O_CLOEXEC))
    throw std::runtime_error("pipe failed");
  pid_t pid = spawn(argv, options, in_pipe, out_pipe, err_pipe);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  RunResult result;
  std::string_view pending_in = options.stdin_data;
  int in_fd = in_pipe[1];
  if (pending_in.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  ::fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  if (in_fd >= 0) ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);

  auto deadline = Clock::now() + timeout;
  bool out_open = true, err_open = true;
  char buf[65536];
  while (out_open || err_open) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out_open ? out_pipe[0] : -1, POLLIN, 0},
                     {err_open ? err_pipe[0] : -1, POLLIN, 0},
                     {in_fd, POLLOUT, 0}};
    ::poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 200)));
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0)
        (i == 0 ? result.out : result.err).append(buf, n);
      else if (n == 0 || errno != EAGAIN)
        (i == 0 ? out_open : err_open) = false;
    }
    if (in_fd >= 0 && fds[2].revents) {
      ssize_t n = ::write(in_fd, pending_in.data(), pending_in.size());
      if (n > 0) pending_in.remove_prefix(n);
      if (n < 0 || pending_in.empty()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
  }
  if (in_fd >= 0) ::close(in_fd);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  if (result.timed_out) ::kill(-pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!result.timed_out && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  return result;
}

RunResult run_shell(const std::string& script, std::chrono::milliseconds timeout,
                    const ProcessOptions& options) {
  return run({"bash", "-c", "set -euo pipefail\n" + script}, timeout, options);
}

Process::Process(const std::vector<std::string>& argv, const ProcessOptions& options) {
  pid_ = spawn(argv, options, nullptr, nullptr, nullptr);
}

Process::Process(Process&& other) noexcept : pid_(other.pid_), status_(other.status_) {
  other.pid_ = -1;
}

Process::~Process() {
  if (pid_ > 0 && running()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

void Process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!status_) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    else if (Clock::now() >= deadline)
      return std::nullopt;
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

bool Process::running() { return !wait(std::chrono::milliseconds(0)).has_value(); }

bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ready();
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(IMAGED_SOURCE_DIR) / relative;
}
std::filesystem::path binary_path(const std::string& relative) {
  return std::filesystem::path(IMAGED_BINARY_DIR) / relative;
}

}  // namespace imaged::testing
