#include "api/listener.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace imaged::api {

namespace net = boost::asio;

namespace {

int socket_family(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return AF_UNSPEC;
  return ss.ss_family;
}

}  // namespace

Listener::Listener(net::io_context& ioc, OwnedFd fd, SessionContext& context)
    : ioc_(ioc),
      strand_(net::make_strand(ioc)),
      acceptor_(strand_),
      backoff_(strand_),
      ctx_(context),
      name_(describe_listener(fd.get())) {
  int family = socket_family(fd.get());
  tcp_ = family == AF_INET || family == AF_INET6;
  acceptor_.assign(net::generic::stream_protocol(family, tcp_ ? IPPROTO_TCP : 0), fd.get());
  fd.release();  // the acceptor owns it now
}

void Listener::start() {
  net::post(strand_, [self = shared_from_this()] { self->accept(); });
}

void Listener::close() {
  net::post(strand_, [self = shared_from_this()] {
    boost::system::error_code ec;
    self->backoff_.cancel();
    self->acceptor_.close(ec);
  });
}

void Listener::accept() {
  if (!acceptor_.is_open()) return;
  acceptor_.async_accept(
      net::make_strand(ioc_),
      [self = shared_from_this()](boost::system::error_code ec, SessionSocket socket) {
        if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
        if (ec) {
          // EMFILE and friends: log, back off briefly, keep accepting.
          self->ctx_.log.warn("accept on {}: {}", self->name_, ec.message());
          self->backoff_.expires_after(std::chrono::milliseconds(100));
          self->backoff_.async_wait([self](boost::system::error_code wec) {
            if (!wec) self->accept();
          });
          return;
        }
        if (self->tcp_) {
          int one = 1;
          ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (self->ctx_.stopping.load()) {
          boost::system::error_code ignored;
          socket.close(ignored);
        } else if (self->ctx_.open() >= self->ctx_.options.max_connections) {
          self->ctx_.log.warn("connection limit ({}) reached on {}; refusing a connection",
                              self->ctx_.options.max_connections, self->name_);
          reject_session(std::move(socket), self->ctx_);
        } else {
          start_session(std::move(socket), self->ctx_);
        }
        self->accept();
      });
}

}  // namespace imaged::api
