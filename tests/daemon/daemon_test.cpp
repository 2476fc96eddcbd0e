// The built imaged binary end to end: sockets, curl, the real docker CLI, signals.
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/api/raw_http.h"
#include "tests/daemon/daemon_fixture.h"
#include "tests/support/image_fixture.h"

using imaged::testing::Daemon;
using imaged::testing::DaemonOptions;
using imaged::testing::header_of;
using imaged::testing::Process;
using imaged::testing::RawHttp;
using imaged::testing::run;
using imaged::testing::wait_until;
using namespace std::chrono_literals;

namespace {

std::string write_file(const Daemon& d, const std::string& name, std::size_t size) {
  auto path = d.dir() / name;
  std::ofstream out(path, std::ios::binary);
  std::string block(size, 'z');
  out << block;
  return path.string();
}

}  // namespace

TEST_CASE("daemon: GET and HEAD /_ping with dockerd's headers", "[daemon][e2e]") {
  Daemon d;
  REQUIRE(d.wait_ready(1s));
  auto get = d.curl({"-i", "http://localhost/_ping"});
  REQUIRE(get.exit_code == 0);
  CHECK(get.out.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(header_of(get.out, "Api-Version") == "1.50");
  CHECK(header_of(get.out, "Docker-Experimental") == "false");
  CHECK(header_of(get.out, "Ostype") == "linux");
  CHECK(header_of(get.out, "Server").starts_with("imaged/"));
  CHECK(header_of(get.out, "Cache-Control") == "no-cache, no-store, must-revalidate");
  CHECK(header_of(get.out, "Pragma") == "no-cache");
  CHECK(header_of(get.out, "Swarm") == "inactive");
  CHECK(header_of(get.out, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(get.out.ends_with("\r\n\r\nOK"));

  auto head = d.curl({"-I", "http://localhost/_ping"});
  CHECK(head.out.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(header_of(head.out, "Content-Length") == "0");
  CHECK(header_of(head.out, "Api-Version") == "1.50");
}

TEST_CASE("daemon: versioned routes, version bounds and unknown routes", "[daemon][e2e]") {
  Daemon d;
  auto v = d.curl({"-w", "\\n%{http_code} %{content_type}", "http://localhost/v1.41/version"});
  auto nl = v.out.rfind('\n');
  CHECK(v.out.substr(nl + 1) == "200 application/json");
  auto j = nlohmann::json::parse(v.out.substr(0, nl));
  CHECK(j["ApiVersion"] == "1.50");
  CHECK(j["MinAPIVersion"] == "1.24");
  CHECK(j["Components"][0]["Name"] == "Engine");

  auto too_new = d.curl({"-w", "\\n%{http_code}", "http://localhost/v1.99/version"});
  CHECK(too_new.out ==
        "{\"message\":\"client version 1.99 is too new. Maximum supported API version is "
        "1.50\"}\n\n400");
  auto missing = d.curl({"-w", "\\n%{http_code}", "http://localhost/v1.41/nosuch"});
  CHECK(missing.out == "{\"message\":\"page not found\"}\n\n404");
}

TEST_CASE("daemon: an oversize body is 413 and the connection stays usable", "[daemon][e2e]") {
  Daemon d;
  auto big = write_file(d, "big", 2 << 20);
  auto r = d.curl({"-H", "Expect:", "-X", "POST", "--data-binary", "@" + big, "-o", "/dev/null",
                   "-w", "%{http_code} %{num_connects}\\n", "http://localhost/v1.41/auth", "--next",
                   "--unix-socket", d.socket().string(), "-o", "/dev/null", "-w",
                   "%{http_code} %{num_connects}\\n", "http://localhost/_ping"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "413 1\n200 0\n");
}

TEST_CASE("daemon: chunked request bodies are accepted", "[daemon][e2e]") {
  Daemon d({.env = {{"IMAGED_TEST_ROUTES", "1"}}});
  auto file = write_file(d, "upload", 3 << 20);
  auto r = d.curl({"-H", "Transfer-Encoding: chunked", "-H", "Content-Type: application/x-tar",
                   "--data-binary", "@" + file, "http://localhost/v1.41/_test/echo"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "{\"bytes\":3145728}\n");
}

TEST_CASE("daemon: docker version and docker info", "[daemon][e2e]") {
  Daemon d;
  auto v = d.docker({"version"});
  INFO(v.out << v.err);
  REQUIRE(v.exit_code == 0);
  CHECK(v.out.find("Server: imaged") != std::string::npos);
  CHECK(v.out.find("Version:          0.1.0") != std::string::npos);
  CHECK(v.out.find("API version:      1.50 (minimum version 1.24)") != std::string::npos);

  auto fmt = d.docker({"version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}"});
  CHECK(fmt.out == "0.1.0 1.50\n");

  auto info = d.docker({"info"});
  INFO(info.out << info.err);
  REQUIRE(info.exit_code == 0);
  CHECK(info.out.find("Server Version: 0.1.0") != std::string::npos);
  CHECK(info.out.find("Docker Root Dir: " + d.data_root().string()) != std::string::npos);
  CHECK(info.err.find("Error") == std::string::npos);
}

TEST_CASE("daemon: the CLI negotiates 1.50 and honours DOCKER_API_VERSION", "[daemon][e2e]") {
  Daemon d({.args = {"--log-level", "debug"}});
  REQUIRE(d.docker({"version"}).exit_code == 0);
  CHECK(d.wait_log("GET /v1.50/version", 5s));
  auto pinned = d.docker({"version"}, {{"DOCKER_API_VERSION", "1.41"}});
  REQUIRE(pinned.exit_code == 0);
  CHECK(d.wait_log("GET /v1.41/version", 5s));
}

TEST_CASE("daemon: docker inspect falls through every object type to not found", "[daemon][e2e]") {
  Daemon d({.args = {"--log-level", "debug"}});
  auto r = d.docker({"inspect", "nosuchthing"});
  CHECK(r.exit_code == 1);
  CHECK(r.out == "[]\n");
  CHECK(r.err.find("No such object: nosuchthing") != std::string::npos);
  CHECK(d.wait_log("GET /v1.50/plugins/nosuchthing/json", 5s));
}

TEST_CASE("daemon: the data root is created private with its layout", "[daemon][e2e]") {
  Daemon d;
  struct stat st {};
  REQUIRE(::stat(d.data_root().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(std::filesystem::is_directory(d.data_root() / "blobs"));
  CHECK(std::filesystem::is_directory(d.data_root() / "ingest"));
  CHECK(std::filesystem::is_regular_file(d.data_root() / "engine-id"));
  auto info = nlohmann::json::parse(d.curl({"http://localhost/info"}).out);
  std::ifstream id_file(d.data_root() / "engine-id");
  std::string id;
  std::getline(id_file, id);
  CHECK(info["ID"] == id);
}

TEST_CASE("daemon: the socket is owner-only without its group, 0660 with one", "[daemon][e2e]") {
  {
    Daemon d({.args = {"--group", "no-such-group-imaged-test"}});
    struct stat st {};
    REQUIRE(::stat(d.socket().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(d.log().find("socket group \"no-such-group-imaged-test\" not found") !=
          std::string::npos);
  }
  {
    struct group* g = ::getgrgid(::getegid());
    REQUIRE(g);
    Daemon d({.args = {"--group", g->gr_name}});
    struct stat st {};
    REQUIRE(::stat(d.socket().c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0660);
    CHECK(st.st_gid == g->gr_gid);
  }
}

TEST_CASE("daemon: a second daemon on the same socket refuses to start", "[daemon][e2e]") {
  Daemon first;
  REQUIRE(first.wait_ready(1s));
  auto second = run({imaged::testing::binary_path("daemon/imaged").string(), "--data-root",
                     (first.dir() / "root2").string(), "-H", "unix://" + first.socket().string()},
                    20s);
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("another daemon is already listening on " + first.socket().string()) !=
        std::string::npos);
  CHECK(imaged::testing::ping(first.socket()));
}

TEST_CASE("daemon: a store that fails its start-up check is refused, not served", "[daemon][e2e]") {
  imaged::testing::TempDir dir;
  const auto root = dir / "root";
  std::string layer;
  {
    imaged::testing::ExternalStore store(root);
    layer = store.import({.layers = {{.bytes = "layer one"}}, .tags = {"busybox:musl"}})
                .layer_digests[0];
  }
  std::filesystem::remove(root / "blobs" / "sha256" / layer.substr(7));  // a row without its blob
  auto started = run({imaged::testing::binary_path("daemon/imaged").string(), "--data-root",
                      root.string(), "-H", "unix://" + (dir / "imaged.sock").string()},
                     20s);
  CHECK(started.exit_code == 1);
  CHECK(started.err.find("failed its integrity check, refusing to start") != std::string::npos);
  CHECK(started.err.find(layer) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "imaged.sock"));
}

TEST_CASE("daemon: a stale socket file from a crash is replaced", "[daemon][e2e]") {
  std::filesystem::path sock;
  std::unique_ptr<Daemon> first = std::make_unique<Daemon>();
  sock = first->socket();
  first->process().signal(SIGKILL);
  first->process().wait(5s);
  REQUIRE(std::filesystem::exists(sock));  // left behind
  Process again({imaged::testing::binary_path("daemon/imaged").string(), "--data-root",
                 (first->dir() / "root").string(), "-H", "unix://" + sock.string()});
  CHECK(wait_until([&] { return imaged::testing::ping(sock); }, 20s));
}

TEST_CASE("daemon: SIGTERM lets an in-flight request finish, then exits 0", "[daemon][e2e]") {
  Daemon d({.args = {"--log-level", "info"}, .env = {{"IMAGED_TEST_ROUTES", "1"}}});
  imaged::testing::ProcessOptions po;
  po.stdout_file = d.dir() / "curl.out";
  Process client({"curl", "-sS", "--unix-socket", d.socket().string(), "-X", "POST",
                  "http://localhost/v1.41/_test/sleep?ms=1500"},
                 po);
  REQUIRE(d.wait_log("test route: sleeping 1500 ms", 10s));
  d.process().signal(SIGTERM);
  CHECK(client.wait(10s) == 0);
  std::ifstream out(d.dir() / "curl.out");
  std::string body((std::istreambuf_iterator<char>(out)), {});
  CHECK(body == "{\"slept_ms\":1500}\n");
  CHECK(d.process().wait(10s) == 0);
  CHECK_FALSE(std::filesystem::exists(d.socket()));
  CHECK(d.log().find("received SIGTERM") != std::string::npos);
}

TEST_CASE("daemon: SIGINT with idle keep-alive connections exits promptly", "[daemon][e2e]") {
  Daemon d;
  RawHttp idle(d.socket());
  idle.send("GET /_ping HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(idle.read_response(5s));
  auto start = std::chrono::steady_clock::now();
  d.process().signal(SIGINT);
  CHECK(d.process().wait(10s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  CHECK(idle.closed_by_peer(2s));
}

TEST_CASE("daemon: TCP only when asked, with a warning in /info", "[daemon][e2e]") {
  int port = imaged::testing::free_port();
  std::string tcp = "tcp://127.0.0.1:" + std::to_string(port);
  Daemon d({.args = {"-H", tcp}});
  auto r = run({"curl", "-sS", "http://127.0.0.1:" + std::to_string(port) + "/_ping"}, 10s);
  CHECK(r.out == "OK");
  auto info = nlohmann::json::parse(d.curl({"http://localhost/info"}).out);
  REQUIRE(info["Warnings"].is_array());
  CHECK(info["Warnings"][0].get<std::string>().find(tcp) != std::string::npos);
}

TEST_CASE("daemon: logs one start line with version, API, sockets and data root", "[daemon][e2e]") {
  Daemon d;
  auto log = d.log();
  CHECK(log.find("imaged 0.1.0 (API 1.50, min 1.24) serving on unix://" + d.socket().string() +
                 "; data root " + d.data_root().string()) != std::string::npos);
}

TEST_CASE("daemon: --version, --help and bad flags", "[daemon][e2e]") {
  auto bin = imaged::testing::binary_path("daemon/imaged").string();
  auto v = run({bin, "--version"}, 10s);
  CHECK(v.exit_code == 0);
  CHECK(v.out.starts_with("imaged version 0.1.0"));
  auto h = run({bin, "--help"}, 10s);
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("--registry-mirror") != std::string::npos);
  auto bad = run({bin, "--bogus"}, 10s);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err == "imaged: unknown flag: --bogus\n");
}
