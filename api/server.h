// Server: the HTTP/1.1 server of the Engine API. One io_context run by a few I/O threads,
// listeners (Unix and TCP sockets, adopted as listening fds), one strand per connection, and a
// WorkerPool on which every handler runs (handlers block; I/O threads never do).
//
// Per connection: keep-alive; a 64 KiB header limit (431 beyond); an idle timeout while waiting
// for the next request and a header timeout once it started; per-route body limits enforced while
// the body streams (413); unread request bodies are consumed (up to drain_limit) before a
// response so that keep-alive survives an early answer; chunked request bodies; chunked streaming
// responses flushed per write.
//
// Lifetime: the Router must outlive the Server. Thread safety: add_listener() and start() from
// one thread before serving; stop() from any thread except an I/O or worker thread.
#pragma once

#include <spdlog/fwd.h>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/listen_socket.h"
#include "common/error.h"

namespace imaged::api {

class Router;

struct ServerOptions {
  std::size_t io_threads = 2;
  std::size_t max_workers = 128;       // concurrent handlers (see WorkerPool)
  std::size_t max_connections = 1024;  // beyond: new connections get 503 and are closed
  std::size_t header_limit = 64 * 1024;
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(120)};   // keep-alive wait
  std::chrono::milliseconds header_timeout{std::chrono::seconds(30)};  // first byte → headers
  std::chrono::milliseconds body_timeout{std::chrono::seconds(300)};   // per body read
  std::chrono::milliseconds write_timeout{std::chrono::seconds(300)};  // per write
  // Unread request body consumed before answering, to keep the connection; beyond, the answer
  // carries Connection: close.
  std::uint64_t drain_limit = 16ull << 20;
  // Added to every response (engine_response_headers() gives the Docker set).
  std::vector<std::pair<std::string, std::string>> response_headers;
  // Where to log; nullptr = spdlog::default_logger().
  std::shared_ptr<spdlog::logger> logger;
};

// Api-Version, Docker-Experimental, Ostype and Server: the headers dockerd sends on every response.
std::vector<std::pair<std::string, std::string>> engine_response_headers(
    std::string_view imaged_version);

class Server {
 public:
  Server(const Router& router, ServerOptions options);
  ~Server();  // stop(0) when still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Adopts a listening stream socket (Unix or TCP; from listen_unix/listen_tcp or systemd).
  // InvalidArgument if fd is not a listening stream socket. Call before start().
  Status add_listener(OwnedFd fd);

  // Starts the I/O threads and accepting. Call once.
  void start();

  // Graceful stop: closes the listeners, closes idle connections, lets in-flight requests finish
  // (their connections close after the response), and after `grace` force-closes the rest (writes
  // fail, ResponseWriter::canceled() turns true). Returns when every handler has returned and the
  // I/O threads have exited. Idempotent.
  void stop(std::chrono::milliseconds grace);

  std::size_t open_connections() const;
  std::size_t worker_threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imaged::api
