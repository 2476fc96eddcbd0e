// The server end to end over a real Unix socket, in process: keep-alive, limits, chunked bodies,
// streaming, timeouts, graceful and forced shutdown, clients that go away.
#include "api/server.h"

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/router.h"
#include "tests/api/raw_http.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

using imaged::Errc;
using imaged::Error;
using imaged::api::Method;
using imaged::api::Request;
using imaged::api::ResponseWriter;
using imaged::api::Router;
using imaged::api::Server;
using imaged::api::ServerOptions;
using imaged::testing::RawHttp;
using imaged::testing::run;
using imaged::testing::TempDir;
using imaged::testing::wait_until;
using namespace std::chrono_literals;

namespace {

// A latch the test opens to let a handler continue.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  bool wait_for(std::chrono::milliseconds t) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, t, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

struct Shared {
  Gate gate;
  std::atomic<int> entered{0};
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> saw_stopping{false};
  std::atomic<bool> handler_done{false};
};

void add_test_routes(Router& r, Shared& s) {
  r.add(Method::Get, "/_ping", [](Request&, ResponseWriter& w) { w.text(200, "OK"); });
  r.add(Method::Post, "/echo", [](Request& req, ResponseWriter& w) {
    auto body = req.read_body();
    if (!body) return (void)w.error(body.error());
    w.json(200, nlohmann::json{{"bytes", body->size()},
                               {"head", body->substr(0, 16)},
                               {"chunked", req.header("Transfer-Encoding").value_or("")}});
  });
  r.add(Method::Post, "/json", [](Request& req, ResponseWriter& w) {
    auto j = req.json_body();
    if (!j) return (void)w.error(j.error());
    w.json(200, *j);
  });
  r.add(
      Method::Post, "/upload",
      [](Request& req, ResponseWriter& w) {
        std::uint64_t total = 0;
        char buf[65536];
        for (;;) {
          auto n = req.body->read(buf);
          if (!n) return (void)w.error(n.error());
          if (*n == 0) break;
          total += *n;
        }
        w.json(200, nlohmann::json{{"bytes", total}});
      },
      imaged::api::RouteOptions{.body_limit = imaged::api::kUnlimitedBody});
  r.add(Method::Get, "/throw",
        [](Request&, ResponseWriter&) { throw std::runtime_error("kaboom"); });
  r.add(Method::Get, "/silent", [](Request&, ResponseWriter&) {});
  r.add(Method::Get, "/query", [](Request& req, ResponseWriter& w) {
    w.json(200, nlohmann::json{{"names", req.query.get_all("names")},
                               {"version", req.version.to_string()},
                               {"path", req.path}});
  });
  r.add(Method::Get, "/images/{name:.*}/json", [](Request& req, ResponseWriter& w) {
    w.json(200, nlohmann::json{{"name", req.param("name")}});
  });
  // Streams one chunk, waits for the gate, streams another.
  r.add(Method::Get, "/stream", [&s](Request&, ResponseWriter& w) {
    w.begin_stream(200, "application/json");
    w.write("{\"n\":1}\r\n");
    ++s.entered;
    s.gate.wait_for(10s);
    w.write("{\"n\":2}\r\n");
    w.end();
  });
  // Answers once the gate opens (a slow request).
  r.add(Method::Get, "/slow", [&s](Request&, ResponseWriter& w) {
    ++s.entered;
    s.gate.wait_for(10s);
    w.text(200, "done");
    s.handler_done = true;
  });
  // Blocks on a condition variable until interrupted (client gone, forced close, or stop), as an
  // events stream waiting for the next event does.
  r.add(Method::Get, "/wait", [&s](Request&, ResponseWriter& w) {
    std::mutex mu;
    std::condition_variable cv;
    auto guard = w.on_interrupt([&] {
      std::lock_guard lock(mu);
      cv.notify_all();
    });
    w.begin_stream(200, "application/json");
    ++s.entered;
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 20s, [&] { return w.canceled() || w.stopping(); });
    }
    s.saw_cancel = w.canceled();
    s.saw_stopping = w.stopping();
    w.write("{\"bye\":true}\n");
    w.end();
    s.handler_done = true;
  });
  // Streams until the writer reports cancellation (client gone or forced close).
  r.add(Method::Get, "/forever", [&s](Request&, ResponseWriter& w) {
    w.begin_stream(200, "application/json");
    ++s.entered;
    for (int i = 0; i < 1000 && !w.canceled(); ++i) std::this_thread::sleep_for(10ms);
    s.saw_cancel = w.canceled();
    s.handler_done = true;
  });
}

struct TestServer {
  explicit TestServer(ServerOptions options = {}) {
    add_test_routes(router, shared);
    options.response_headers = imaged::api::engine_response_headers("9.9.9");
    // Expected errors (the throwing handler, refused connections) stay out of the test output.
    options.logger =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    server = std::make_unique<Server>(router, options);
    auto fd = imaged::api::listen_unix(socket, 0600);
    REQUIRE(fd);
    REQUIRE(server->add_listener(std::move(*fd)));
    server->start();
  }
  ~TestServer() {
    shared.gate.release();
    server->stop(1s);
  }

  std::string url(const std::string& path) const { return "http://localhost" + path; }

  // curl --unix-socket with extra args; returns stdout.
  imaged::testing::RunResult curl(std::vector<std::string> args) const {
    std::vector<std::string> argv{"curl", "-sS", "--unix-socket", socket.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 20s);
  }

  TempDir dir{"imaged-api-server"};
  std::filesystem::path socket = dir / "api.sock";
  Shared shared;
  Router router;
  std::unique_ptr<Server> server;
};

std::string make_file(const TempDir& dir, std::size_t size) {
  auto path = dir / ("body-" + std::to_string(size));
  std::ofstream out(path, std::ios::binary);
  std::string block(65536, 'x');
  for (std::size_t left = size; left > 0;) {
    std::size_t n = std::min(left, block.size());
    out.write(block.data(), static_cast<std::streamsize>(n));
    left -= n;
  }
  return path.string();
}

}  // namespace

TEST_CASE("server: every response carries the Engine headers", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("GET /nosuch HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = c.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::status_of(*res) == 404);
  CHECK(imaged::testing::header_of(*res, "Api-Version") == "1.50");
  CHECK(imaged::testing::header_of(*res, "Docker-Experimental") == "false");
  CHECK(imaged::testing::header_of(*res, "Ostype") == "linux");
  CHECK(imaged::testing::header_of(*res, "Server") == "imaged/9.9.9 (linux)");
  CHECK(imaged::testing::header_of(*res, "Content-Type") == "application/json");
  CHECK(imaged::testing::body_of(*res) == "{\"message\":\"page not found\"}\n");
}

TEST_CASE("server: keep-alive serves several requests on one connection", "[api][server]") {
  TestServer t;
  auto r = t.curl({"-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", t.url("/_ping"),
                   "-o", "/dev/null", t.url("/v1.41/_ping"), "-o", "/dev/null", t.url("/nosuch")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "200 1\n200 0\n404 0\n");
}

TEST_CASE("server: pipelined requests are answered in order", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send(
      "GET /_ping HTTP/1.1\r\nHost: x\r\n\r\nGET /query?names=a&names=b HTTP/1.1\r\nHost: "
      "x\r\n\r\nGET /nosuch HTTP/1.1\r\nHost: x\r\n\r\n");
  auto a = c.read_response(5s), b = c.read_response(5s), d = c.read_response(5s);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(d);
  CHECK(imaged::testing::body_of(*a) == "OK");
  CHECK(nlohmann::json::parse(imaged::testing::body_of(*b))["names"] ==
        nlohmann::json::array({"a", "b"}));
  CHECK(imaged::testing::status_of(*d) == 404);
}

TEST_CASE("server: path params, query and version reach the handler", "[api][server]") {
  TestServer t;
  auto r = t.curl({t.url("/v1.41/images/127.0.0.1:5000/team/busybox:1/json")});
  CHECK(nlohmann::json::parse(r.out)["name"] == "127.0.0.1:5000/team/busybox:1");
  auto q = t.curl({t.url("/v1.43/query?names=busybox%3Amedia&names=x")});
  auto j = nlohmann::json::parse(q.out);
  CHECK(j["names"] == nlohmann::json::array({"busybox:media", "x"}));
  CHECK(j["version"] == "1.43");
  CHECK(j["path"] == "/query");
}

TEST_CASE("server: an oversize Content-Length body is 413 and the connection survives",
          "[api][server]") {
  TestServer t;
  auto big = make_file(t.dir, 2 << 20);
  auto r = t.curl({"-H", "Expect:", "-X", "POST", "--data-binary", "@" + big, "-w",
                   "\\n%{http_code} %{num_connects}\\n", t.url("/echo"), "--next", "--unix-socket",
                   t.socket.string(), "-w", "\\n%{http_code} %{num_connects}\\n", t.url("/_ping")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "{\"message\":\"request body too large: 2097152 bytes, the limit is 1048576\"}\n\n413 1\n"
        "OK\n200 0\n");
}

TEST_CASE("server: an oversize chunked body is 413 and the connection survives", "[api][server]") {
  TestServer t;
  auto big = make_file(t.dir, 2 << 20);
  auto r = t.curl({"-H", "Expect:", "-H", "Transfer-Encoding: chunked", "-X", "POST",
                   "--data-binary", "@" + big, "-w", "\\n%{http_code} %{num_connects}\\n",
                   t.url("/echo"), "--next", "--unix-socket", t.socket.string(), "-w",
                   "\\n%{http_code} %{num_connects}\\n", t.url("/_ping")});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        "{\"message\":\"request body too large: the limit is 1048576 bytes\"}\n\n413 1\n"
        "OK\n200 0\n");
}

TEST_CASE("server: chunked request bodies are de-chunked for the handler", "[api][server]") {
  TestServer t;
  auto file = make_file(t.dir, 300000);
  auto r = t.curl({"-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", "@" + file,
                   t.url("/echo")});
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["bytes"] == 300000);
  CHECK(j["chunked"] == "chunked");
}

TEST_CASE("server: a streaming route takes an unlimited chunked upload", "[api][server]") {
  TestServer t;
  auto file = make_file(t.dir, 24 << 20);
  auto r =
      t.curl({"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + file, t.url("/upload")});
  REQUIRE(r.exit_code == 0);
  CHECK(nlohmann::json::parse(r.out)["bytes"] == 24 << 20);
}

TEST_CASE("server: Expect: 100-continue gets 100 before the body is read", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  auto got = c.read_until("\r\n\r\n", 5s);
  CHECK(got.starts_with("HTTP/1.1 100 Continue\r\n\r\n"));
  c.send("hello");
  auto text = c.read_until("}\n", 5s);
  CHECK(text.find("\"bytes\":5") != std::string::npos);
}

TEST_CASE("server: malformed JSON bodies are 400", "[api][server]") {
  TestServer t;
  auto r = t.curl({"-H", "Content-Type: application/json", "--data", "{not json", "-w",
                   "\\n%{http_code}", t.url("/json")});
  CHECK(r.out.ends_with("\n400"));
  CHECK(r.out.starts_with("{\"message\":\"invalid JSON: "));
  auto ok = t.curl({"--data", "{\"a\":1}", t.url("/json")});
  CHECK(ok.out == "{\"a\":1}\n");
}

TEST_CASE("server: a handler that throws is a 500 JSON error", "[api][server]") {
  TestServer t;
  auto r = t.curl({"-w", "\\n%{http_code}", t.url("/throw")});
  CHECK(r.out == "{\"message\":\"kaboom\"}\n\n500");
  auto s = t.curl({"-w", "\\n%{http_code}", t.url("/silent")});
  CHECK(s.out == "{\"message\":\"handler returned without a response\"}\n\n500");
}

TEST_CASE("server: HEAD answers carry no body", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("HEAD /nosuch HTTP/1.1\r\nHost: x\r\n\r\nGET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read_until("\r\n\r\n", 5s);
  CHECK(imaged::testing::status_of(head) == 404);
  // The next response follows the HEAD headers directly: no body bytes in between.
  auto all = c.read_until("OK", 5s);
  auto second = all.find("HTTP/1.1 200 OK");
  REQUIRE(second != std::string::npos);
  CHECK(all.substr(0, second).ends_with("\r\n\r\n"));
}

TEST_CASE("server: streamed chunks are flushed as they are written", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  // The first message arrives while the handler is still blocked on the gate.
  auto first = c.read_until("{\"n\":1}", 5s);
  CHECK(first.find("Transfer-Encoding: chunked") != std::string::npos);
  CHECK(first.find("{\"n\":1}") != std::string::npos);
  CHECK(first.find("{\"n\":2}") == std::string::npos);
  t.shared.gate.release();
  auto res = c.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::body_of(*res) == "{\"n\":1}\r\n{\"n\":2}\r\n");
}

TEST_CASE("server: a client that goes away cancels its stream", "[api][server]") {
  TestServer t;
  {
    RawHttp c(t.socket);
    c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("\r\n\r\n", 5s);
    REQUIRE(wait_until([&] { return t.shared.entered == 1; }, 5s));
  }  // closes the connection
  CHECK(wait_until([&] { return t.shared.handler_done.load(); }, 5s));
  CHECK(t.shared.saw_cancel);
}

TEST_CASE("server: oversize headers are 431", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("GET /_ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n");
  auto res = c.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::status_of(*res) == 431);
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("server: garbage is 400 and the connection closes", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("NOT HTTP AT ALL\r\n\r\n");
  auto res = c.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::status_of(*res) == 400);
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("server: idle keep-alive connections time out", "[api][server]") {
  ServerOptions o;
  o.idle_timeout = 200ms;
  TestServer t(o);
  RawHttp c(t.socket);
  c.send("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(c.read_response(5s));
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("server: a stalled header times out", "[api][server]") {
  ServerOptions o;
  o.header_timeout = 200ms;
  TestServer t(o);
  RawHttp c(t.socket);
  c.send("GET /_ping HTTP/1.1\r\nHo");
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("server: beyond max_connections a connection gets 503", "[api][server]") {
  ServerOptions o;
  o.max_connections = 1;
  TestServer t(o);
  RawHttp first(t.socket);
  first.send("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(first.read_response(5s));
  RawHttp second(t.socket);
  auto res = second.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::status_of(*res) == 503);
  CHECK(second.closed_by_peer(5s));
}

TEST_CASE("server: stop lets an in-flight request finish, closing idle ones at once",
          "[api][server]") {
  TestServer t;
  RawHttp idle(t.socket);
  idle.send("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(idle.read_response(5s));

  RawHttp busy(t.socket);
  busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(wait_until([&] { return t.shared.entered == 1; }, 5s));

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    t.server->stop(10s);
    stopped = true;
  });
  CHECK(idle.closed_by_peer(5s));
  CHECK_FALSE(stopped);
  // New connections are refused once stopping.
  CHECK(wait_until(
      [&] {
        try {
          RawHttp late(t.socket);
          return late.closed_by_peer(1s);
        } catch (const std::exception&) {
          return true;
        }
      },
      5s));

  t.shared.gate.release();
  auto res = busy.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::body_of(*res) == "done");
  CHECK(imaged::testing::header_of(*res, "Connection") == "close");
  stopper.join();
  CHECK(stopped);
  CHECK(t.shared.handler_done);
}

TEST_CASE("server: after the grace period stop cuts streams, which see canceled()",
          "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(wait_until([&] { return t.shared.entered == 1; }, 5s));
  auto start = std::chrono::steady_clock::now();
  t.server->stop(200ms);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(t.shared.handler_done);
  CHECK(t.shared.saw_cancel);
  CHECK(c.closed_by_peer(5s));
}

TEST_CASE("server: blocked handlers never stall other connections", "[api][server]") {
  TestServer t;
  // Four handlers block on the gate (each holds a worker); I/O threads stay free.
  std::vector<std::unique_ptr<RawHttp>> slow;
  for (int i = 0; i < 4; ++i) {
    slow.push_back(std::make_unique<RawHttp>(t.socket));
    slow.back()->send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  REQUIRE(wait_until([&] { return t.shared.entered == 4; }, 5s));
  CHECK(t.server->worker_threads() >= 4);
  auto start = std::chrono::steady_clock::now();
  RawHttp quick(t.socket);
  quick.send("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = quick.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::body_of(*res) == "OK");
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  t.shared.gate.release();
  for (auto& c : slow) {
    auto r = c->read_response(5s);
    REQUIRE(r);
    CHECK(imaged::testing::body_of(*r) == "done");
  }
}

TEST_CASE("server: a handler blocked on a condition variable is woken when its client leaves",
          "[api][server]") {
  TestServer t;
  {
    RawHttp c(t.socket);
    c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
    c.read_until("\r\n\r\n", 5s);
    REQUIRE(wait_until([&] { return t.shared.entered == 1; }, 5s));
  }
  CHECK(wait_until([&] { return t.shared.handler_done.load(); }, 5s));
  CHECK(t.shared.saw_cancel);
}

TEST_CASE("server: a graceful stop ends long-lived streams at once and cleanly", "[api][server]") {
  TestServer t;
  RawHttp c(t.socket);
  c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(wait_until([&] { return t.shared.entered == 1; }, 5s));
  auto start = std::chrono::steady_clock::now();
  t.server->stop(15s);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(t.shared.saw_stopping);
  CHECK_FALSE(t.shared.saw_cancel);
  auto res = c.read_response(5s);
  REQUIRE(res);
  CHECK(imaged::testing::body_of(*res) == "{\"bye\":true}\n");
  CHECK(c.closed_by_peer(5s));  // headers went out before the stop; the close comes after
}
