// Creating listening sockets with plain POSIX calls (no Asio): the daemon binds them, the
// Server adopts them by fd. Also what systemd activation hands over (already listening fds).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "common/error.h"

namespace imaged::api {

// An owned file descriptor, closed on destruction.
class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd();
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&& other) noexcept;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Binds and listens on a Unix stream socket at `path` with the given mode (the bind happens under
// a restrictive umask, so the socket is never more open than `mode`). The parent directory is
// created (0755) if missing. A leftover socket file is removed only when nothing answers on it;
// if a server answers: AlreadyExists "another daemon is already listening on <path>".
// A non-socket file at `path`: AlreadyExists. Other failures: Internal/PermissionDenied with errno.
Result<OwnedFd> listen_unix(const std::filesystem::path& path, mode_t mode = 0660,
                            int backlog = 512);

// Binds and listens on TCP host:port (host may be an IPv4/IPv6 literal or a name; "" = all).
// SO_REUSEADDR is set. Port in use: Unavailable "address already in use".
Result<OwnedFd> listen_tcp(const std::string& host, int port, int backlog = 512);

// True when `fd` is a listening stream socket (AF_UNIX, AF_INET or AF_INET6).
bool is_stream_listener(int fd);

// "unix:///run/imaged.sock" / "tcp://127.0.0.1:2375" for a listening fd (for logs).
std::string describe_listener(int fd);

}  // namespace imaged::api
