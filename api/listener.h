// Listener (internal to api/): accepts connections on one adopted listening socket and starts a
// session for each, on its own strand. Asio only; no Beast.
#pragma once

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <string>

#include "api/listen_socket.h"
#include "api/session.h"

namespace imaged::api {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Takes ownership of a listening fd. Throws boost::system::system_error if Asio refuses it.
  Listener(boost::asio::io_context& ioc, OwnedFd fd, SessionContext& context);

  void start();  // begins accepting (posts to the listener's strand)
  void close();  // stops accepting (thread safe)
  const std::string& name() const { return name_; }

 private:
  void accept();

  boost::asio::io_context& ioc_;
  SessionExecutor strand_;
  boost::asio::basic_socket_acceptor<boost::asio::generic::stream_protocol, SessionExecutor>
      acceptor_;
  boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                    boost::asio::wait_traits<std::chrono::steady_clock>,
                                    SessionExecutor>
      backoff_;
  SessionContext& ctx_;
  std::string name_;
  bool tcp_ = false;
};

}  // namespace imaged::api
