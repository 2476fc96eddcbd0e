#include "api/server.h"

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <thread>

#include "api/api_version.h"
#include "api/listener.h"
#include "api/router.h"
#include "api/session.h"
#include "api/worker_pool.h"

namespace imaged::api {

namespace net = boost::asio;

std::vector<std::pair<std::string, std::string>> engine_response_headers(
    std::string_view imaged_version) {
  return {
      {"Api-Version", std::string(kMaxApiVersionText)},
      {"Docker-Experimental", "false"},
      {"Ostype", "linux"},
      {"Server", "imaged/" + std::string(imaged_version) + " (linux)"},
  };
}

struct Server::Impl {
  Impl(const Router& router, ServerOptions opts)
      : options(std::move(opts)),
        logger(options.logger ? options.logger : spdlog::default_logger()),
        workers(options.max_workers),
        context(router, workers, options, *logger),
        ioc(static_cast<int>(std::max<std::size_t>(1, options.io_threads))),
        work(net::make_work_guard(ioc)) {}

  // Declaration order is destruction order reversed: the io_context (whose pending handlers own
  // sessions) dies before the SessionContext they report to, and that before the workers.
  ServerOptions options;
  std::shared_ptr<spdlog::logger> logger;
  WorkerPool workers;
  SessionContext context;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work;
  std::vector<std::shared_ptr<Listener>> listeners;
  std::vector<std::thread> io_threads;
  bool started = false;
  bool stopped = false;
};

Server::Server(const Router& router, ServerOptions options)
    : impl_(std::make_unique<Impl>(router, std::move(options))) {}

Server::~Server() { stop(std::chrono::milliseconds(0)); }

Status Server::add_listener(OwnedFd fd) {
  if (!fd || !is_stream_listener(fd.get()))
    return fail(Errc::InvalidArgument,
                "fd " + std::to_string(fd.get()) + " is not a listening stream socket");
  try {
    impl_->listeners.push_back(
        std::make_shared<Listener>(impl_->ioc, std::move(fd), impl_->context));
  } catch (const std::exception& e) {
    return fail(Errc::Internal, std::string("cannot listen: ") + e.what());
  }
  return {};
}

void Server::start() {
  if (impl_->started) return;
  impl_->started = true;
  for (auto& l : impl_->listeners) l->start();
  std::size_t n = std::max<std::size_t>(1, impl_->options.io_threads);
  for (std::size_t i = 0; i < n; ++i) impl_->io_threads.emplace_back([this] { impl_->ioc.run(); });
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& ctx = impl_->context;

  // 1. No new connections.
  ctx.stopping = true;
  for (auto& l : impl_->listeners) l->close();

  // 2. Idle connections close now; busy ones after their current response.
  ctx.for_each([](SessionControl& s) { s.shutdown_gracefully(); });
  if (!ctx.wait_closed(grace)) {
    // 3. Deadline passed: cut the rest. Handlers see failing writes and canceled().
    impl_->logger->warn("shutdown: closing {} connection(s) still busy after {} ms", ctx.open(),
                        grace.count());
    ctx.for_each([](SessionControl& s) { s.force_close(); });
  }

  // 4. Wait for every handler to return (they post their completion to the strands, so the I/O
  //    threads keep running meanwhile), then let the io_context run out of work.
  impl_->workers.shutdown();
  ctx.wait_closed(std::chrono::seconds(10));
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->io_threads) t.join();
  impl_->io_threads.clear();
  impl_->listeners.clear();
}

std::size_t Server::open_connections() const { return impl_->context.open(); }

std::size_t Server::worker_threads() const { return impl_->workers.threads(); }

}  // namespace imaged::api
