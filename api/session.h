// Connection sessions (internal to api/): the Beast state machine lives in session.cpp; this
// header is what the listener and the server need, with Asio types only.
#pragma once

#include <spdlog/fwd.h>
#include <atomic>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "api/server.h"

namespace imaged::api {

class Router;
class WorkerPool;

using SessionExecutor = boost::asio::strand<boost::asio::io_context::executor_type>;
using SessionSocket =
    boost::asio::basic_stream_socket<boost::asio::generic::stream_protocol, SessionExecutor>;

// What the server can ask of a live connection. Both calls are thread safe (they post to the
// connection's strand).
class SessionControl {
 public:
  virtual ~SessionControl() = default;
  // Close now if idle; otherwise close after the current response.
  virtual void shutdown_gracefully() = 0;
  // Close the socket now; pending reads/writes fail; the handler sees canceled().
  virtual void force_close() = 0;
};

// State shared by all connections of one Server; outlives them.
class SessionContext {
 public:
  SessionContext(const Router& router, WorkerPool& workers, const ServerOptions& options,
                 spdlog::logger& log)
      : router(router), workers(workers), options(options), log(log) {}

  const Router& router;
  WorkerPool& workers;
  const ServerOptions& options;
  spdlog::logger& log;
  std::atomic<bool> stopping{false};

  // Connection registry, for the limit and for stop().
  void on_open(SessionControl* key, std::weak_ptr<SessionControl> session);
  void on_close(SessionControl* key);
  std::size_t open() const;
  // Calls fn on every live session.
  template <class Fn>
  void for_each(Fn fn) {
    std::vector<std::shared_ptr<SessionControl>> live;
    {
      std::lock_guard lock(mu_);
      for (auto& [_, weak] : sessions_)
        if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) fn(*s);
  }
  // Waits until no session is open, up to `timeout`; true when none is.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<SessionControl*, std::weak_ptr<SessionControl>> sessions_;
};

// Starts serving an accepted connection (the socket's executor is its strand).
void start_session(SessionSocket socket, SessionContext& context);

// Answers 503 and closes (connection limit reached).
void reject_session(SessionSocket socket, SessionContext& context);

}  // namespace imaged::api
