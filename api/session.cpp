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
// While a handler runs with the request body fully read, a "watch" read notices a client that
// goes away, so that long streams (events) stop early.
//
// Compile time: Beast parses requests (parser, async_read_header, async_read_some); responses
// are rendered by render_head() and written with one net::async_write over one buffer-sequence
// type, and every completion handler is one type-erased IoHandler, so each Asio/Beast composed
// operation is instantiated once.
#include <spdlog/logger.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>

#include <fcntl.h>

#include "api/http_status.h"
#include "api/interrupt_list.h"
#include "api/request.h"
#include "api/response_head.h"
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
using IoHandler = std::function<void(beast::error_code, std::size_t)>;
// Every write is at most three pieces: a head (status+headers, chunk size, or a fixed string),
// the payload, and a tail (CRLF after a chunk).
using Pieces = std::array<net::const_buffer, 3>;

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool bodiless_status(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kCrlf = "\r\n";
constexpr std::string_view kLastChunk = "0\r\n\r\n";

net::const_buffer buf(std::string_view s) { return net::const_buffer(s.data(), s.size()); }

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

// A response the worker hands to the strand. The head is rendered on the strand, where the
// keep-alive decision is made.
struct Outgoing {
  ResponseHead head;
  std::string body;  // complete responses only
  std::string rendered;
};
using OutgoingPtr = std::shared_ptr<Outgoing>;

class Session;

// The handler's side of one request: Request + ResponseWriter + BodyReader, used on the worker.
class Exchange final : public ResponseWriter, public BodyReader {
 public:
  Exchange(std::shared_ptr<Session> session, Request request, Router::Match match, bool head,
           std::shared_ptr<InterruptList> interrupts);

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
  Result<RawStream> upgrade(std::string_view content_type) override;
  bool started() const override { return state_ != State::NotStarted; }
  bool canceled() const override;
  bool stopping() const override;
  InterruptHandle on_interrupt(std::function<void()> fn) override {
    return interrupts_->add(std::move(fn));
  }

 private:
  enum class State { NotStarted, Sent, Streaming, Ended, Aborted, Upgraded };

  template <class Op>
  std::pair<beast::error_code, std::size_t> call(Op op);
  OutgoingPtr make_outgoing(int status, std::string_view content_type);

  std::shared_ptr<Session> session_;
  Request request_;
  Router::Match match_;
  bool head_;
  std::shared_ptr<InterruptList> interrupts_;
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
    answer_and_close(503, "too many connections");
  }

  // ---- SessionControl (any thread) ----
  void shutdown_gracefully() override {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->phase_ == Phase::Idle) return self->close();
      // A handler is running: tell it (long-lived streams end; the rest may finish).
      if (self->interrupts_) self->interrupts_->fire();
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
      write_pieces({buf(kContinue), {}, {}}, [self = shared_from_this(), out, w](auto ec, auto) {
        if (ec) return self->fail_op(ec, w);
        self->read_body_some(out, w);
      });
      return;
    }
    read_body_some(out, w);
  }

  void op_send(OutgoingPtr res, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    // Consume the rest of the request body first: a client still uploading would otherwise see
    // its connection reset, and keep-alive would be lost.
    drain_body([self = shared_from_this(), res, w] {
      if (self->closed_) return w->complete(net::error::operation_aborted);
      res->head.keep_alive = self->keep_alive_now();
      if (!res->head.keep_alive) self->keep_alive_ = false;
      res->rendered = render_head(res->head);
      self->write_pieces({buf(res->rendered), buf(res->body), {}},
                         [self, res, w](auto ec, std::size_t n) {
                           if (ec) return self->fail_op(ec, w);
                           w->complete({}, n);
                         });
    });
  }

  void op_begin_stream(OutgoingPtr res, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    res->head.keep_alive = keep_alive_now();
    if (!res->head.keep_alive) keep_alive_ = false;
    res->rendered = render_head(res->head);
    write_pieces({buf(res->rendered), {}, {}},
                 [self = shared_from_this(), res, w](auto ec, auto n) {
                   if (ec) return self->fail_op(ec, w);
                   w->complete({}, n);
                 });
  }

  void op_write_chunk(std::string_view data, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    auto size_line = std::make_shared<std::string>(chunk_size_hex(data.size()) + "\r\n");
    write_pieces({buf(*size_line), buf(data), buf(kCrlf)},
                 [self = shared_from_this(), size_line, w](auto ec, auto n) {
                   if (ec) return self->fail_op(ec, w);
                   w->complete({}, n);
                 });
  }

  void op_end_stream(WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    write_pieces({buf(kLastChunk), {}, {}}, [self = shared_from_this(), w](auto ec, auto n) {
      if (ec) return self->fail_op(ec, w);
      w->complete({}, n);
    });
  }

  // Switches to a raw stream: stops the watch read (keeping what it read), writes the 101 head,
  // then hands a blocking duplicate of the socket and the buffered bytes to the handler.
  void op_upgrade(OutgoingPtr res, std::shared_ptr<ResponseWriter::RawStream> out, WaiterPtr w) {
    if (closed_) return w->complete(net::error::operation_aborted);
    keep_alive_ = false;
    auto next = [self = shared_from_this(), res, out, w] {
      if (self->closed_) return w->complete(net::error::operation_aborted);
      res->rendered = render_head(res->head);
      self->write_pieces({buf(res->rendered), {}, {}}, [self, res, out, w](auto ec, auto) {
        if (ec) return self->fail_op(ec, w);
        int fd = ::fcntl(self->stream_.socket().native_handle(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0) return self->fail_op(net::error::bad_descriptor, w);
        // The socket's file description is shared: Asio does no more I/O on it.
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        out->fd.reset(fd);
        auto data = self->buffer_.data();
        out->pending.assign(static_cast<const char*>(data.data()), data.size());
        self->buffer_.consume(data.size());
        w->complete({}, 0);
      });
    };
    upgrading_ = true;
    if (!watching_) return next();
    after_watch_ = std::move(next);
    beast::error_code ec;
    stream_.socket().cancel(ec);
  }

  void op_abort() {
    keep_alive_ = false;
    canceled_ = true;
    close();
  }

  // The handler returned (posted by the worker).
  void on_exchange_done(bool response_complete) {
    interrupts_.reset();
    if (!response_complete) keep_alive_ = false;
    finishing_ = true;
    if (watching_) {
      beast::error_code ec;
      stream_.socket().cancel(ec);  // on_watch() continues with finish_request()
      return;
    }
    finish_request();
  }

 private:
  enum class Phase { Idle, Header, Handling };

  // ---- the only places that start I/O (one instantiation each) ----

  void write_pieces(Pieces pieces, IoHandler done) {
    stream_.expires_after(ctx_.options.write_timeout);
    net::async_write(stream_, pieces, std::move(done));
  }
  void read_bytes(std::chrono::milliseconds timeout, IoHandler done) {
    if (timeout.count() > 0)
      stream_.expires_after(timeout);
    else
      stream_.expires_never();
    stream_.async_read_some(buffer_.prepare(8192), std::move(done));
  }
  void read_parsed_header(IoHandler done) {
    stream_.expires_after(ctx_.options.header_timeout);
    http::async_read_header(stream_, buffer_, *parser_, std::move(done));
  }
  void read_parsed_body(IoHandler done) {
    stream_.expires_after(ctx_.options.body_timeout);
    http::async_read_some(stream_, buffer_, *parser_, std::move(done));
  }

  bool keep_alive_now() const { return keep_alive_ && !ctx_.stopping.load() && !closed_; }

  void fail_op(beast::error_code ec, const WaiterPtr& w) {
    keep_alive_ = false;
    if (ec == beast::error::timeout) ctx_.log.debug("connection timed out");
    close();
    w->complete(ec);
  }

  // 1. Wait for the first byte of the next request.
  void wait_for_request() {
    phase_ = Phase::Idle;
    if (closed_) return;
    if (ctx_.stopping.load()) return close();
    if (buffer_.size() > 0) return read_header();  // pipelined bytes already here
    read_bytes(ctx_.options.idle_timeout,
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
    read_parsed_header(
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

    interrupts_ = std::make_shared<InterruptList>();
    auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(req), std::move(match),
                                               head, interrupts_);
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
    read_parsed_body([self = shared_from_this(), out, w](beast::error_code ec, std::size_t) {
      if (ec == http::error::need_buffer) ec = {};
      std::size_t n = out.size() - self->parser_->get().body().size;
      if (ec) {
        self->keep_alive_ = false;
        self->close();
        return w->complete(ec, 0);
      }
      if (n == 0 && !self->parser_->is_done()) return self->read_body_some(out, w);  // framing
      w->complete({}, n);
      self->maybe_watch();
    });
  }

  // Consumes the unread request body (up to drain_limit), then calls next. Keep-alive is given
  // up when the body is too large, or was announced with Expect: 100-continue and never asked
  // for (the client may then never send it).
  void drain_body(std::function<void()> next) {
    if (closed_ || !parser_ || parser_->is_done()) return next();
    if (expect_continue_ && !sent_continue_) {
      keep_alive_ = false;
      return next();
    }
    std::uint64_t budget = ctx_.options.drain_limit - std::min(drained_, ctx_.options.drain_limit);
    auto remaining = parser_->content_length_remaining();
    if ((remaining && *remaining > budget) || drained_ > ctx_.options.drain_limit) {
      keep_alive_ = false;
      return next();
    }
    if (!drain_buffer_) drain_buffer_ = std::make_unique<char[]>(kDrainChunk);
    auto& body = parser_->get().body();
    body.data = drain_buffer_.get();
    body.size = kDrainChunk;
    read_parsed_body([self = shared_from_this(), next](beast::error_code ec, std::size_t) {
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

  // Called when the request body is complete: watch for a client that goes away.
  void maybe_watch() {
    if (closed_ || watching_ || finishing_ || upgrading_ || phase_ != Phase::Handling) return;
    if (!parser_ || !parser_->is_done() || buffer_.size() != 0) return;
    watching_ = true;
    read_bytes(std::chrono::milliseconds(0),
               [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                 self->on_watch(ec, n);
               });
  }

  void on_watch(beast::error_code ec, std::size_t n) {
    watching_ = false;
    buffer_.commit(n);  // a pipelined request, kept for after this one
    if (after_watch_) {
      // An upgrade stopped the watch: what it read belongs to the raw stream; a client that
      // half-closed is still there (the docker CLI closes its write side when it has no stdin).
      auto next = std::move(after_watch_);
      after_watch_ = nullptr;
      return next();
    }
    if (ec && ec != net::error::operation_aborted) {
      // EOF or reset: the client is gone; the handler sees canceled() / failing writes.
      canceled_ = true;
      keep_alive_ = false;
      if (interrupts_) interrupts_->fire();
    }
    if (finishing_) finish_request();
  }

  // Errors found before a handler exists (bad request, header too large, connection limit).
  void answer_and_close(int status, std::string message) {
    auto res = std::make_shared<Outgoing>();
    res->head.status = status;
    res->head.headers = ctx_.options.response_headers;
    res->head.content_type = std::string(kJsonContentType);
    res->body = error_body(message);
    res->head.content_length = res->body.size();
    res->head.keep_alive = false;
    res->rendered = render_head(res->head);
    write_pieces({buf(res->rendered), buf(res->body), {}},
                 [self = shared_from_this(), res](auto, auto) { self->close(); });
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    canceled_ = true;
    if (interrupts_) interrupts_->fire();
    beast::error_code ec;
    stream_.socket().shutdown(net::socket_base::shutdown_both, ec);
    stream_.close();
  }

  static constexpr std::size_t kDrainChunk = 64 * 1024;

  Stream stream_;
  SessionContext& ctx_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  std::unique_ptr<char[]> drain_buffer_;
  std::shared_ptr<InterruptList> interrupts_;  // the running handler's, while there is one
  std::function<void()> after_watch_;          // an upgrade waiting for the watch to stop
  std::uint64_t drained_ = 0;
  Phase phase_ = Phase::Idle;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  bool sent_continue_ = false;
  bool watching_ = false;
  bool finishing_ = false;
  bool upgrading_ = false;
  bool closed_ = false;
  std::atomic<bool> canceled_{false};
};

// ---- Exchange (worker thread) ----

Exchange::Exchange(std::shared_ptr<Session> session, Request request, Router::Match match,
                   bool head, std::shared_ptr<InterruptList> interrupts)
    : session_(std::move(session)),
      request_(std::move(request)),
      match_(std::move(match)),
      head_(head),
      interrupts_(std::move(interrupts)) {
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
  // The handler's frame is gone: its interrupt callbacks must never run now.
  interrupts_->disarm();
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

bool Exchange::stopping() const { return session_->context().stopping.load(); }

void Exchange::add_header(std::string name, std::string value) {
  if (state_ == State::NotStarted) headers_.emplace_back(std::move(name), std::move(value));
}

OutgoingPtr Exchange::make_outgoing(int status, std::string_view content_type) {
  auto res = std::make_shared<Outgoing>();
  res->head.status = status;
  res->head.headers = session_->context().options.response_headers;
  res->head.headers.insert(res->head.headers.end(), headers_.begin(), headers_.end());
  res->head.content_type = std::string(content_type);
  return res;
}

bool Exchange::send(int status, std::string_view content_type, std::string body) {
  if (state_ != State::NotStarted) return false;
  state_ = State::Sent;
  status_ = status;
  auto res = make_outgoing(status, content_type);
  if (!bodiless_status(status)) res->head.content_length = body.size();
  if (!head_ && !bodiless_status(status)) res->body = std::move(body);
  auto [ec, n] = call([res](Session& s, WaiterPtr w) { s.op_send(res, w); });
  return !ec;
}

bool Exchange::begin_stream(int status, std::string_view content_type) {
  if (state_ != State::NotStarted) return false;
  state_ = State::Streaming;
  status_ = status;
  stream_content_type_ = std::string(content_type);
  auto res = make_outgoing(status, content_type);
  // A HEAD answer has no body to frame; it only announces the stream.
  res->head.chunked = !head_;
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

Result<ResponseWriter::RawStream> Exchange::upgrade(std::string_view content_type) {
  if (state_ != State::NotStarted) return fail(Errc::Internal, "upgrade after a response began");
  state_ = State::Upgraded;
  status_ = 101;
  auto res = make_outgoing(101, content_type);
  res->head.upgrade = "tcp";
  auto out = std::make_shared<RawStream>();
  auto [ec, n] = call([res, out](Session& s, WaiterPtr w) { s.op_upgrade(res, out, w); });
  if (ec) return fail(Errc::Canceled, "the client went away: " + ec.message());
  return std::move(*out);
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
