#include "api/listen_socket.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <system_error>

namespace imaged::api {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

Errc errno_code(int err) {
  if (err == EACCES || err == EPERM) return Errc::PermissionDenied;
  if (err == EADDRINUSE) return Errc::Unavailable;
  return Errc::Internal;
}

Result<sockaddr_un> unix_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  const std::string& s = path.native();
  if (s.size() >= sizeof(addr.sun_path))
    return fail(Errc::InvalidArgument, "socket path too long: " + s);
  std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
  return addr;
}

// Probes a socket file: true when a server accepts a connection on it.
bool someone_listens(const sockaddr_un& addr) {
  OwnedFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) return false;
  return ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
}

}  // namespace

OwnedFd::~OwnedFd() {
  if (fd_ >= 0) ::close(fd_);
}

OwnedFd& OwnedFd::operator=(OwnedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

Result<OwnedFd> listen_unix(const std::filesystem::path& path, mode_t mode, int backlog) {
  auto addr = IMAGED_TRY(unix_address(path));

  // 1. The parent directory must exist (/run exists; $XDG_RUNTIME_DIR/sub may not).
  std::error_code ec;
  if (path.has_parent_path()) {
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      return fail(Errc::Internal,
                  "cannot create directory " + path.parent_path().string() + ": " + ec.message());
  }

  // 2. A leftover file: remove it only if it is a socket nobody answers on.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return fail(Errc::AlreadyExists, path.string() + " exists and is not a socket");
    if (someone_listens(addr))
      return fail(Errc::AlreadyExists, "another daemon is already listening on " + path.string());
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
      return fail(errno_code(errno),
                  "cannot remove stale socket " + path.string() + ": " + errno_text(errno));
  }

  // 3. Bind under a umask that leaves at most `mode`, so there is no window where the socket is
  //    more open than asked (chmod afterwards only tightens or equals it).
  OwnedFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return fail(errno_code(errno), "socket: " + errno_text(errno));
  mode_t old_mask = ::umask(static_cast<mode_t>(~mode & 0777));
  int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  int bind_errno = errno;
  ::umask(old_mask);
  if (rc != 0)
    return fail(errno_code(bind_errno),
                "cannot bind " + path.string() + ": " + errno_text(bind_errno));
  if (::chmod(path.c_str(), mode) != 0)
    return fail(errno_code(errno), "cannot chmod " + path.string() + ": " + errno_text(errno));
  if (::listen(fd.get(), backlog) != 0)
    return fail(errno_code(errno), "cannot listen on " + path.string() + ": " + errno_text(errno));
  return fd;
}

Result<OwnedFd> listen_tcp(const std::string& host, int port, int backlog) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string service = std::to_string(port);
  int gai = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &list);
  if (gai != 0)
    return fail(Errc::InvalidArgument, "cannot resolve " + host + ": " + ::gai_strerror(gai));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(list, &::freeaddrinfo);

  Error last{Errc::Internal, "no address for " + host};
  for (addrinfo* ai = list; ai; ai = ai->ai_next) {
    OwnedFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (!fd) {
      last = Error{errno_code(errno), "socket: " + errno_text(errno)};
      continue;
    }
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
      last = Error{errno_code(errno),
                   "cannot bind tcp://" + host + ":" + service + ": " + errno_text(errno)};
      continue;
    }
    if (::listen(fd.get(), backlog) != 0) {
      last = Error{errno_code(errno),
                   "cannot listen on tcp://" + host + ":" + service + ": " + errno_text(errno)};
      continue;
    }
    return fd;
  }
  return fail(last);
}

bool is_stream_listener(int fd) {
  int type = 0, listening = 0;
  socklen_t len = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) return false;
  len = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
    return false;
  sockaddr_storage ss{};
  len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return false;
  return ss.ss_family == AF_UNIX || ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

std::string describe_listener(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0)
    return "fd://" + std::to_string(fd);
  if (ss.ss_family == AF_UNIX) {
    auto* un = reinterpret_cast<sockaddr_un*>(&ss);
    std::size_t n =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    std::string p(un->sun_path, strnlen(un->sun_path, n));
    return "unix://" + p;
  }
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
    port = ntohs(in->sin_port);
    return "tcp://" + std::string(host) + ":" + std::to_string(port);
  }
  if (ss.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
    port = ntohs(in6->sin6_port);
    return "tcp://[" + std::string(host) + "]:" + std::to_string(port);
  }
  return "fd://" + std::to_string(fd);
}

}  // namespace imaged::api
