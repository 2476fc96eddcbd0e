#include "common/containers/exec.h"
#include "common/images/timestamps.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace imaged::containers {

namespace {

// Writes all of `bytes` to the process's stdin; false when it is gone.
bool write_all(int fd, std::string_view bytes) {
  return content::write_all(fd, std::as_bytes(std::span(bytes))).has_value();
}

}  // namespace

Exec::State Exec::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

bool Exec::claim() {
  std::lock_guard lock(mu_);
  if (state_.started) return false;
  state_.started = true;
  return true;
}

void Exec::record_failed_start(int exit_code) {
  std::lock_guard lock(mu_);
  state_.exit_code = exit_code;
}

bool Exec::resize(unsigned short rows, unsigned short cols) const {
  std::lock_guard lock(mu_);
  return set_terminal_size(terminal_fd_, rows, cols);
}

int Exec::pump(ExecProcess process, content::UniqueFd client, std::string pending) {
  {
    std::lock_guard lock(mu_);
    state_.running = true;
    state_.pid = process.pid;
    terminal_fd_ = config_.tty ? process.streams.stdout_read.get() : -1;
  }
  auto& s = process.streams;
  int client_fd = client.get();
  Attachment out(std::move(client), config_.attach_stdout, config_.attach_stderr, !config_.tty);
  bool client_ok = client_fd >= 0;
  if (!pending.empty() && s.stdin_write) write_all(s.stdin_write.get(), pending);
  std::string buf(32 * 1024, '\0');
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<StreamId> ids;
    for (auto [fd, id] : {std::pair{s.stdout_read.get(), StreamId::Stdout},
                          std::pair{s.stderr_read.get(), StreamId::Stderr}})
      if (fd >= 0) {
        fds.push_back({fd, POLLIN, 0});
        ids.push_back(id);
      }
    if (fds.empty()) break;
    bool reading_client = client_ok && s.stdin_write;
    if (reading_client) fds.push_back({client_fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {  // EOF; EIO on a terminal whose last slave closed
        (ids[i] == StreamId::Stdout ? s.stdout_read : s.stderr_read).reset();
        continue;
      }
      OutputChunk chunk{ids[i], images::now_unix_ns(), buf.substr(0, static_cast<std::size_t>(n))};
      if (client_ok && !out.send(chunk)) client_ok = false;  // gone: the process goes on
    }
    if (reading_client && fds.back().revents != 0) {
      ssize_t n = ::recv(client_fd, buf.data(), buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n > 0 && write_all(s.stdin_write.get(), std::string_view(buf.data(), n))) continue;
      if (n < 0) client_ok = false;
      // The client's stdin ended (the CLI half-closes), so does the process's.
      s.stdin_write.reset();
    }
  }
  int status = 0;
  while (::waitpid(process.pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = exit_code_of(status);
  {
    std::lock_guard lock(mu_);
    state_.running = false;
    state_.pid = 0;
    state_.exit_code = code;
    terminal_fd_ = -1;
  }
  if (client_fd >= 0) out.close();
  return code;
}

}  // namespace imaged::containers
