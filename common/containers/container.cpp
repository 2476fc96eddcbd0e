#include "common/containers/container.h"
#include "common/images/timestamps.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <thread>

namespace imaged::containers {

namespace {

bool send_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string_view state_name(State state) {
  switch (state) {
    case State::Created:
      return "created";
    case State::Running:
      return "running";
    case State::Exited:
      return "exited";
    case State::Removing:
      return "removing";
  }
  return "unknown";
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

bool set_terminal_size(int fd, unsigned short rows, unsigned short cols) {
  if (fd < 0) return false;
  struct winsize size {};
  size.ws_row = rows;
  size.ws_col = cols;
  return ::ioctl(fd, TIOCSWINSZ, &size) == 0;
}

std::string frame_header(StreamId stream, std::size_t size) {
  auto len = static_cast<std::uint32_t>(size);
  return {static_cast<char>(stream),
          0,
          0,
          0,
          static_cast<char>(len >> 24),
          static_cast<char>(len >> 16),
          static_cast<char>(len >> 8),
          static_cast<char>(len)};
}

// ---- Attachment ----

bool Attachment::send(const OutputChunk& chunk) {
  if ((chunk.stream == StreamId::Stdout && !stdout_) ||
      (chunk.stream == StreamId::Stderr && !stderr_))
    return true;
  std::lock_guard lock(write_mu_);
  if (!mux_) return send_all(fd_.get(), chunk.data.data(), chunk.data.size());
  std::string header = frame_header(chunk.stream, chunk.data.size());
  return send_all(fd_.get(), header.data(), header.size()) &&
         send_all(fd_.get(), chunk.data.data(), chunk.data.size());
}

void Attachment::close() {
  closed_ = true;
  ::shutdown(fd_.get(), SHUT_RDWR);
}

// ---- Container ----

Snapshot Container::snapshot() const {
  std::lock_guard lock(mu_);
  return state_;
}

void Container::begin_running(pid_t pid, Streams streams, std::function<void(Container&)> on_exit) {
  {
    std::lock_guard lock(mu_);
    state_.state = State::Running;
    state_.pid = pid;
    state_.exit_code = 0;
    state_.error.clear();
    state_.started_ns = images::now_unix_ns();
    state_.finished_ns = 0;
    stdin_ = std::move(streams.stdin_write);
    terminal_fd_ = def_.tty() ? streams.stdout_read.get() : -1;
  }
  cv_.notify_all();
  std::thread([self = shared_from_this(), pid, streams = std::move(streams),
               on_exit = std::move(on_exit)]() mutable {
    self->supervise(pid, std::move(streams), std::move(on_exit));
  }).detach();
}

void Container::supervise(pid_t pid, Streams streams, std::function<void(Container&)> on_exit) {
  std::array<pollfd, 2> fds{};
  std::array<StreamId, 2> ids{StreamId::Stdout, StreamId::Stderr};
  nfds_t open = 0;
  for (auto* fd : {&streams.stdout_read, &streams.stderr_read})
    if (fd->valid()) fds[open++] = pollfd{fd->get(), POLLIN, 0};
  std::string buf(32 * 1024, '\0');
  while (open > 0) {
    if (::poll(fds.data(), open, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (nfds_t i = 0; i < open;) {
      if (fds[i].revents == 0) {
        ++i;
        continue;
      }
      ssize_t n = ::read(fds[i].fd, buf.data(), buf.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        ++i;
        continue;
      }
      if (n <= 0) {  // EOF; EIO on a terminal whose last slave closed
        fds[i] = fds[open - 1];
        std::swap(ids[i], ids[open - 1]);
        --open;
        continue;
      }
      record_output(ids[i], buf.substr(0, static_cast<std::size_t>(n)));
      ++i;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  {
    std::lock_guard lock(mu_);
    terminal_fd_ = -1;
    stdin_.reset();
  }
  record_exit(exit_code_of(status));
  if (on_exit) on_exit(*this);
}

void Container::record_output(StreamId stream, std::string data) {
  OutputChunk chunk{stream, images::now_unix_ns(), std::move(data)};
  std::vector<std::shared_ptr<Attachment>> targets;
  {
    std::lock_guard lock(mu_);
    output_bytes_ += chunk.data.size();
    std::string_view rest = chunk.data;
    while (!rest.empty()) {
      std::size_t end = rest.find('\n');
      std::size_t len = end == std::string_view::npos ? rest.size() : end + 1;
      output_.push_back(OutputChunk{stream, chunk.time_ns, std::string(rest.substr(0, len))});
      rest.remove_prefix(len);
    }
    while (output_bytes_ > kMaxKeptOutput && output_.size() > 1) {
      output_bytes_ -= output_.front().data.size();
      output_.pop_front();
      ++output_dropped_;
    }
    targets = attachments_;
  }
  cv_.notify_all();
  for (const auto& a : targets)
    if (!a->send(chunk)) {
      a->close();
      detach(a);
    }
}

void Container::record_exit(int exit_code) {
  std::vector<std::shared_ptr<Attachment>> ended;
  {
    std::lock_guard lock(mu_);
    state_.state = State::Exited;
    state_.pid = 0;
    state_.exit_code = exit_code;
    state_.finished_ns = images::now_unix_ns();
    ++state_.exits;
    ended.swap(attachments_);
  }
  for (const auto& a : ended) a->close();
  cv_.notify_all();
}

void Container::record_failed_start(int exit_code, std::string error) {
  {
    std::lock_guard lock(mu_);
    state_.exit_code = exit_code;
    state_.error = std::move(error);
    state_.finished_ns = images::now_unix_ns();
    ++state_.exits;
  }
  cv_.notify_all();
}

bool Container::mark_removing() {
  std::lock_guard lock(mu_);
  if (state_.state == State::Removing) return false;
  state_.state = State::Removing;
  return true;
}

void Container::mark_removed() {
  {
    std::lock_guard lock(mu_);
    state_.removed = true;
  }
  cv_.notify_all();
}

bool Container::kill(int signal) const {
  std::lock_guard lock(mu_);
  if (state_.state != State::Running || state_.pid <= 0) return false;
  return ::kill(state_.pid, signal) == 0;
}

bool Container::resize(unsigned short rows, unsigned short cols) const {
  std::lock_guard lock(mu_);
  return set_terminal_size(terminal_fd_, rows, cols);
}

void Container::attach(const std::shared_ptr<Attachment>& attachment) {
  std::lock_guard lock(mu_);
  attachments_.push_back(attachment);
}

void Container::detach(const std::shared_ptr<Attachment>& attachment) {
  {
    std::lock_guard lock(mu_);
    std::erase(attachments_, attachment);
  }
  cv_.notify_all();
}

bool Container::write_stdin(std::string_view bytes) {
  int fd;
  {
    std::lock_guard lock(mu_);
    fd = stdin_.get();
  }
  if (fd < 0) return false;
  // A terminal's input goes to the master side, which the supervisor also reads.
  return content::write_all(fd, std::as_bytes(std::span(bytes))).has_value();
}

void Container::close_stdin() {
  std::lock_guard lock(mu_);
  if (!def_.tty()) stdin_.reset();
}

std::size_t Container::output_since(std::size_t from, std::vector<OutputChunk>& out) const {
  std::lock_guard lock(mu_);
  std::size_t start = std::max(from, output_dropped_);
  for (std::size_t i = start - output_dropped_; i < output_.size(); ++i) out.push_back(output_[i]);
  return output_dropped_ + output_.size();
}

Snapshot Container::wait_until(
    const std::function<bool(const Snapshot&, std::size_t output_end)>& done,
    const std::function<bool()>& interrupted) const {
  std::unique_lock lock(mu_);
  for (;;) {
    if (done(state_, output_dropped_ + output_.size()) || (interrupted && interrupted()))
      return state_;
    cv_.wait_for(lock, std::chrono::milliseconds(250));
  }
}

void Container::notify() const { cv_.notify_all(); }

}  // namespace imaged::containers
