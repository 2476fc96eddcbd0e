// One HTTP/1.1 connection: the Beast state machine on the connection's strand, and the Exchange
// that bridges a handler on a worker thread to it.
//
// Flow of one request (numbers match the code):
//   1. wait for the first byte (idle timeout; a graceful stop closes idle connections here)
//   2. read the header (header timeout, header limit)
//   3. resolve the route; build the Request; oversize Content-Length short-circuits to 413
//   4. run the handler on a worker; each body read / response write it makes is posted to the
//      strand and the worker blocks until it completes (backpressure)
//   5. when the handler returns: consume what is left of the body (bounded), then either read the
//      next request (keep-alive) or close
// While a handler runs with the request body fully read, a one-byte "watch" read notices a client
// that goes away, so that long streams (events) stop early.
#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "api/http_status.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "api/session.h"
#include "api/worker_pool.h"

namespace imaged::api {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

using Stream = beast::basic_stream<net::generic::stream_protocol, SessionExecutor>;
using Clock = std::chrono::steady_clock;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Statuses that never carry a body (nor Content-Length).
bool bodiless_status(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// A worker thread waiting for one operation posted to a strand.
class Waiter {
 public:
  void complete(beast::error_code ec, std::size_t n = 0) {
    std::lock_guard lock(mu_);
    ec_ = ec;
    n_ = n;
    done_ = true;
    cv_.notify_one();
  }
  std::pair<beast::error_code, std::size_t> wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return {ec_, n_};
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  beast::error_code ec_;
  std::size_t n_ = 0;
};
using WaiterPtr = std::shared_ptr<Waiter>;

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class Session;

// The handler's side of one request: Request + ResponseWriter + BodyReader, used on the worker.
class Exchange final : public ResponseWriter, public BodyReader {
 public:
  Exchange(std::shared_ptr<Session> session, Request request, Router::Match match, bool head);

  void run();

  // BodyReader
  Result<std::size_t> read(std::span<char> out) override;

  // ResponseWriter
  void add_header(std::string name, std::string value) override;
  bool send(int status, std::string_view content_type, std::string body) override;
  bool begin_stream(int status, std::string_view content_type) override;
  bool write(std::string_view data) override;
  bool end() override;
  void abort() override;
  bool started() const override { return state_ != State::NotStarted; }
  bool canceled() const override;

 private:
  enum class State { NotStarted, Sent, Streaming, Ended, Aborted };

  template <class Op>
  std::pair<beast::error_code, std::size_t> call(Op op);

  std::shared_ptr<Session> session_;
  Request request_;
  Router::Match match_;
  bool head_;
  std::uint64_t body_read_ = 0;
  HeaderList headers_;
  State state_ = State::NotStarted;
  int status_ = 0;
};

class Session final : public SessionControl, public std::enable_shared_from_this<Session> {
 public:
  Session(SessionSocket socket, SessionContext& ctx) : stream_(std::move(socket)), ctx_(ctx) {}
  ~Session() override { ctx_.on_close(this); }

  SessionExecutor executor() { return stream_.get_executor(); }
  SessionContext& context() { return ctx_; }
  bool is_canceled() const { return canceled_.load(); }

  void start() {
    ctx_.on_open(this, weak_from_this());
    wait_for_request();
  }

  void reject() {
    ctx_.on_open(this, weak_from_this());
    auto res =
        std::make_shared<http::response<http::string_body>>(http::status::service_unavailable, 11);
    for (const auto& [k, v] : ctx_.options.response_headers) res->set(k, v);
    res->set(http::field::content_type, kJsonContentType);
    res->body() = error_body("too many connections");
    res->keep_alive(false);
    res->prepare_payload();
    stream_.expires_after(std::chrono::seconds(5));
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res](beast::error_code, std::size_t) { self->close(); });
  }

  // ---- SessionControl (any thread) ----
  void shutdown_gracefully() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::Idle) self->close();
    });
  }
  void force_close() override {
    canceled_ = true;
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

  // ---- operations posted by the Exchange (strand) ----

  void op_read_body(std::span<char> out, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    if (parser_->is_done()) return w->complete({}, 0);
    if (expect_continue_ && !sent_continue_) {
      // The client waits for this before sending a body it announced with Expect: 100-continue.
      sent_continue_ = true;
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream_.expires_after(ctx_.options.write_timeout);
      net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this(), out, w](beast::error_code ec, std::size_t) {
                         if (ec) return self->fail_op(ec, w);
                         self->read_body_some(out, w);
                       });
      return;
    }
    read_body_some(out, w);
  }

  void op_send(std::shared_ptr<http::response<http::string_body>> res, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    // Consume the rest of the request body first: a client still uploading would otherwise see
    // its connection reset, and keep-alive would be lost.
    drain_body([self = shared_from_this(), res, w] {
      if (self->closed_) return w->complete(net::error::operation_aborted);
      res->keep_alive(self->keep_alive_now());
      self->stream_.expires_after(self->ctx_.options.write_timeout);
      http::async_write(self->stream_, *res, [self, res, w](beast::error_code ec, std::size_t n) {
        if (ec) return self->fail_op(ec, w);
        if (!res->keep_alive()) self->keep_alive_ = false;
        w->complete({}, n);
      });
    });
  }

  void op_begin_stream(std::shared_ptr<http::response<http::empty_body>> res, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    res->keep_alive(keep_alive_now());
    if (!res->keep_alive()) keep_alive_ = false;
    stream_head_ = res;
    stream_serializer_.emplace(*res);
    stream_.expires_after(ctx_.options.write_timeout);
    http::async_write_header(stream_, *stream_serializer_,
                             [self = shared_from_this(), w](beast::error_code ec, std::size_t n) {
                               if (ec) return self->fail_op(ec, w);
                               w->complete({}, n);
                             });
  }

  void op_write_chunk(std::string_view data, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    stream_.expires_after(ctx_.options.write_timeout);
    net::async_write(stream_, http::make_chunk(net::buffer(data.data(), data.size())),
                     [self = shared_from_this(), w](beast::error_code ec, std::size_t n) {
                       if (ec) return self->fail_op(ec, w);
                       w->complete({}, n);
                     });
  }

  void op_end_stream(WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    stream_.expires_after(ctx_.options.write_timeout);
    net::async_write(stream_, http::make_chunk_last(),
                     [self = shared_from_this(), w](beast::error_code ec, std::size_t n) {
                       if (ec) return self->fail_op(ec, w);
                       w->complete({}, n);
                     });
  }

  void op_abort() {
    keep_alive_ = false;
    canceled_ = true;
    close();
  }

  // The handler returned (posted by the worker).
  void on_exchange_done(bool response_complete) {
    stream_serializer_.reset();
    stream_head_.reset();
    if (!response_complete) keep_alive_ = false;
    finishing_ = true;
    if (watching_) {
      beast::error_code ec;
      stream_.socket().cancel(ec);  // on_watch() continues with finish_request()
      return;
    }
    finish_request();
  }

  // Called after a body read completed: start watching for a client that goes away.
  void maybe_watch() {
    if (closed_ || watching_ || finishing_ || phase_ != Phase::Handling) return;
    if (!parser_ || !parser_->is_done() || buffer_.size() != 0) return;
    watching_ = true;
    stream_.expires_never();
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->on_watch(ec, n);
                            });
  }

 private:
  enum class Phase { Idle, Header, Handling };

  bool keep_alive_now() const { return keep_alive_ && !ctx_.stopping.load() && !closed_; }

  void fail_op(beast::error_code ec, const WaiterPtr& w) {
    keep_alive_ = false;
    if (ec == beast::error::timeout) ctx_.log.debug("connection timed out");
    canceled_ = true;
    close();
    w->complete(ec);
  }

  // 1. Wait for the first byte of the next request.
  void wait_for_request() {
    phase_ = Phase::Idle;
    if (closed_) return;
    if (ctx_.stopping.load()) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    stream_.expires_after(ctx_.options.idle_timeout);
    stream_.async_read_some(buffer_.prepare(8192),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  // 2. Read the header.
  void read_header() {
    phase_ = Phase::Header;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(ctx_.options.header_limit));
    parser_->body_limit(boost::none);  // limits are per route, enforced by the Exchange
    stream_.expires_after(ctx_.options.header_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::header_limit) return answer_and_close(431, "request header too large");
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::bad_descriptor ||
        ec == net::error::connection_reset)
      return close();
    if (ec) return answer_and_close(400, "malformed HTTP request: " + ec.message());
    dispatch();
  }

  // 3. Route and hand over to a worker.
  void dispatch() {
    phase_ = Phase::Handling;
    finishing_ = false;
    const auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    expect_continue_ = iequals(msg[http::field::expect], "100-continue");
    sent_continue_ = false;

    Request req;
    req.method = parse_method(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& field : msg)
      req.headers.add(std::string(field.name_string()), std::string(field.value()));
    if (auto len = parser_->content_length()) req.content_length = *len;

    std::string_view target = req.target;
    auto qmark = target.find('?');
    std::string_view raw_path = target.substr(0, qmark);
    std::string_view raw_query =
        qmark == std::string_view::npos ? std::string_view{} : target.substr(qmark + 1);
    if (auto hash = raw_query.find('#'); hash != std::string_view::npos)
      raw_query = raw_query.substr(0, hash);

    Router::Match match = ctx_.router.resolve(req.method, raw_path);
    auto query = QueryParams::parse(raw_query);
    if (!query) {
      Error err = query.error();
      match.handler = [err](Request&, ResponseWriter& w) { w.error(err); };
    } else {
      req.query = std::move(*query);
    }
    if (req.content_length && *req.content_length > match.body_limit) {
      Error err{Errc::ResourceExhausted,
                "request body too large: " + std::to_string(*req.content_length) +
                    " bytes, the limit is " + std::to_string(match.body_limit)};
      match.handler = [err](Request&, ResponseWriter& w) { w.error(err); };
    }
    req.params = match.params;
    req.path = match.path;
    req.version = match.version;
    req.versioned = match.versioned;
    bool head = req.method == Method::Head;

    auto exchange =
        std::make_shared<Exchange>(shared_from_this(), std::move(req), std::move(match), head);
    maybe_watch();
    if (!ctx_.workers.submit([exchange] { exchange->run(); })) {
      // Only after shutdown began; nothing was written.
      keep_alive_ = false;
      close();
    }
  }

  void read_body_some(std::span<char> out, WaiterPtr w) {
    auto& body = parser_->get().body();
    body.data = out.data();
    body.size = out.size();
    body.more = true;
    stream_.expires_after(ctx_.options.body_timeout);
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this(), out, w](beast::error_code ec, std::size_t) {
                            if (ec == http::error::need_buffer) ec = {};
                            std::size_t n = out.size() - self->parser_->get().body().size;
                            if (ec) {
                              self->keep_alive_ = false;
                              self->close();
                              return w->complete(ec, 0);
                            }
                            if (n == 0 && !self->parser_->is_done())
                              return self->read_body_some(out, w);  // framing only
                            w->complete({}, n);
                            self->maybe_watch();
                          });
  }

  // Consumes the unread request body (up to drain_limit), then calls next. Keep-alive is given
  // up when the body is too large, or was announced with Expect: 100-continue and never asked
  // for (the client may then never send it).
  template <class Next>
  void drain_body(Next next) {
    if (closed_ || !parser_ || parser_->is_done()) return next();
    if (expect_continue_ && !sent_continue_) {
      keep_alive_ = false;
      return next();
    }
    if (auto len = parser_->content_length_remaining();
        len && *len > ctx_.options.drain_limit - std::min(drained_, ctx_.options.drain_limit)) {
      keep_alive_ = false;
      return next();
    }
    if (drained_ > ctx_.options.drain_limit) {
      keep_alive_ = false;
      return next();
    }
    if (!drain_buffer_) drain_buffer_ = std::make_unique<char[]>(kDrainChunk);
    auto& body = parser_->get().body();
    body.data = drain_buffer_.get();
    body.size = kDrainChunk;
    stream_.expires_after(ctx_.options.body_timeout);
    http::async_read_some(stream_, buffer_, *parser_,
                          [self = shared_from_this(), next](beast::error_code ec, std::size_t) {
                            if (ec == http::error::need_buffer) ec = {};
                            self->drained_ += kDrainChunk - self->parser_->get().body().size;
                            if (ec) {
                              self->keep_alive_ = false;
                              return next();
                            }
                            self->drain_body(next);
                          });
  }

  // 5. After the handler: next request or close.
  void finish_request() {
    finishing_ = false;
    if (closed_) return;
    drain_body([self = shared_from_this()] {
      self->drained_ = 0;
      if (!self->keep_alive_now() || !self->parser_->is_done()) return self->close();
      self->parser_.reset();
      self->wait_for_request();
    });
  }

  void on_watch(beast::error_code ec, std::size_t n) {
    watching_ = false;
    buffer_.commit(n);
    if (ec && ec != net::error::operation_aborted) {
      // EOF or reset: the client is gone; the handler sees canceled() / failing writes.
      canceled_ = true;
      keep_alive_ = false;
    }
    if (finishing_) finish_request();
  }

  // Errors found before a handler exists (bad request line, header too large).
  void answer_and_close(int status, std::string message) {
    auto res =
        std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
    for (const auto& [k, v] : ctx_.options.response_headers) res->set(k, v);
    res->set(http::field::content_type, kJsonContentType);
    res->body() = error_body(message);
    res->keep_alive(false);
    res->prepare_payload();
    stream_.expires_after(ctx_.options.write_timeout);
    http::async_write(
        stream_, *res,
        [self = shared_from_this(), res](beast::error_code, std::size_t) { self->close(); });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    canceled_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(net::socket_base::shutdown_both, ec);
    stream_.close();
  }

  static constexpr std::size_t kDrainChunk = 64 * 1024;

  Stream stream_;
  SessionContext& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  std::shared_ptr<http::response<http::empty_body>> stream_head_;
  std::optional<http::response_serializer<http::empty_body>> stream_serializer_;
  std::unique_ptr<char[]> drain_buffer_;
  std::uint64_t drained_ = 0;
  Phase phase_ = Phase::Idle;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  bool sent_continue_ = false;
  bool watching_ = false;
  bool finishing_ = false;
  bool closed_ = false;
  std::atomic<bool> canceled_{false};
};

// ---- Exchange (worker thread) ----

Exchange::Exchange(std::shared_ptr<Session> session, Request request, Router::Match match,
                   bool head)
    : session_(std::move(session)),
      request_(std::move(request)),
      match_(std::move(match)),
      head_(head) {
  request_.body = this;
}

template <class Op>
std::pair<beast::error_code, std::size_t> Exchange::call(Op op) {
  auto w = std::make_shared<Waiter>();
  net::post(session_->executor(), [s = session_, w, op = std::move(op)]() mutable { op(*s, w); });
  return w->wait();
}

void Exchange::run() {
  auto start = Clock::now();
  auto& log = session_->context().log;
  try {
    match_.handler(request_, *this);
  } catch (const std::exception& e) {
    log.error("handler for {} {} threw: {}", to_string(request_.method), request_.path, e.what());
    error(Error{Errc::Internal, e.what()});
  } catch (...) {
    log.error("handler for {} {} threw a non-exception", to_string(request_.method), request_.path);
    error(Error{Errc::Internal, "internal error"});
  }
  if (state_ == State::NotStarted) {
    log.error("handler for {} {} returned without a response", to_string(request_.method),
              request_.path);
    error(Error{Errc::Internal, "handler returned without a response"});
  }
  if (state_ == State::Streaming) end();
  bool complete = state_ == State::Sent || state_ == State::Ended;
  log.debug("{} {} → {} ({} ms)", to_string(request_.method), request_.target, status_,
            std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count());
  net::post(session_->executor(), [s = session_, complete] { s->on_exchange_done(complete); });
}

Result<std::size_t> Exchange::read(std::span<char> out) {
  if (out.empty()) return std::size_t{0};
  std::uint64_t limit = match_.body_limit;
  // Ask for at most one byte beyond the limit: enough to know it was exceeded.
  std::uint64_t room = limit == kUnlimitedBody ? out.size() : limit - body_read_ + 1;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), room));
  auto [ec, n] = call([out = out.first(want)](Session& s, WaiterPtr w) { s.op_read_body(out, w); });
  if (ec) {
    if (ec == beast::error::timeout)
      return fail(Errc::DeadlineExceeded, "timed out reading the request body");
    if (ec == http::error::bad_chunk || ec == http::error::bad_chunk_extension ||
        ec == http::error::bad_content_length || ec == http::error::partial_message)
      return fail(Errc::InvalidArgument, "malformed request body: " + ec.message());
    return fail(Errc::Canceled, "reading the request body: " + ec.message());
  }
  body_read_ += n;
  if (limit != kUnlimitedBody && body_read_ > limit)
    return fail(Errc::ResourceExhausted,
                "request body too large: the limit is " + std::to_string(limit) + " bytes");
  return n;
}

bool Exchange::canceled() const { return session_->is_canceled(); }

void Exchange::add_header(std::string name, std::string value) {
  if (state_ == State::NotStarted) headers_.emplace_back(std::move(name), std::move(value));
}

bool Exchange::send(int status, std::string_view content_type, std::string body) {
  if (state_ != State::NotStarted) return false;
  state_ = State::Sent;
  status_ = status;
  auto res =
      std::make_shared<http::response<http::string_body>>(static_cast<http::status>(status), 11);
  for (const auto& [k, v] : session_->context().options.response_headers) res->set(k, v);
  for (const auto& [k, v] : headers_) res->set(k, v);
  if (!content_type.empty()) res->set(http::field::content_type, content_type);
  if (!bodiless_status(status)) res->content_length(body.size());
  if (!head_ && !bodiless_status(status)) res->body() = std::move(body);
  auto [ec, n] = call([res](Session& s, WaiterPtr w) { s.op_send(res, w); });
  return !ec;
}

bool Exchange::begin_stream(int status, std::string_view content_type) {
  if (state_ != State::NotStarted) return false;
  state_ = State::Streaming;
  status_ = status;
  stream_content_type_ = std::string(content_type);
  auto res =
      std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(status), 11);
  for (const auto& [k, v] : session_->context().options.response_headers) res->set(k, v);
  for (const auto& [k, v] : headers_) res->set(k, v);
  if (!content_type.empty()) res->set(http::field::content_type, content_type);
  if (!head_) res->chunked(true);
  auto [ec, n] = call([res](Session& s, WaiterPtr w) { s.op_begin_stream(res, w); });
  if (ec) state_ = State::Aborted;
  return !ec;
}

bool Exchange::write(std::string_view data) {
  if (state_ != State::Streaming) return false;
  if (data.empty() || head_) return !canceled();
  auto [ec, n] = call([data](Session& s, WaiterPtr w) { s.op_write_chunk(data, w); });
  if (ec) state_ = State::Aborted;
  return !ec && !canceled();
}

bool Exchange::end() {
  if (state_ == State::Ended) return true;
  if (state_ != State::Streaming) return false;
  state_ = State::Ended;
  if (head_) return true;
  auto [ec, n] = call([](Session& s, WaiterPtr w) { s.op_end_stream(w); });
  if (ec) state_ = State::Aborted;
  return !ec;
}

void Exchange::abort() {
  if (state_ == State::Sent || state_ == State::Ended) return;
  state_ = State::Aborted;
  net::post(session_->executor(), [s = session_] { s->op_abort(); });
}

}  // namespace

// ---- SessionContext ----

void SessionContext::on_open(SessionControl* key, std::weak_ptr<SessionControl> session) {
  std::lock_guard lock(mu_);
  sessions_.emplace(key, std::move(session));
}

void SessionContext::on_close(SessionControl* key) {
  std::lock_guard lock(mu_);
  sessions_.erase(key);
  cv_.notify_all();
}

std::size_t SessionContext::open() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

bool SessionContext::wait_closed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return sessions_.empty(); });
}

void start_session(SessionSocket socket, SessionContext& context) {
  std::make_shared<Session>(std::move(socket), context)->start();
}

void reject_session(SessionSocket socket, SessionContext& context) {
  std::make_shared<Session>(std::move(socket), context)->reject();
}

}  // namespace imaged::api
