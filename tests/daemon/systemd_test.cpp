// systemd integration: socket activation, readiness notification, and the unit files.
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tests/daemon/daemon_fixture.h"

using imaged::testing::binary_path;
using imaged::testing::Process;
using imaged::testing::ProcessOptions;
using imaged::testing::run;
using imaged::testing::source_path;
using imaged::testing::TempDir;
using imaged::testing::wait_until;
using namespace std::chrono_literals;

namespace {

bool have(const std::string& tool) {
  return run({"sh", "-c", "command -v " + tool}, 10s).exit_code == 0;
}

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::filesystem::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() { ::close(fd_); }
  // Everything received so far, messages separated by '\n'.
  std::string drain() {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) break;
      received_ += std::string(buf, static_cast<std::size_t>(n)) + "\n";
    }
    return received_;
  }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::string received_;
};

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

TEST_CASE("systemd: socket activation serves the passed socket", "[daemon][e2e]") {
  if (!have("systemd-socket-activate")) {
    WARN("systemd-socket-activate not installed; skipped");
    return;
  }
  TempDir dir("imaged-activation");
  auto sock = dir / "activated.sock";
  ProcessOptions po;
  po.stderr_file = dir / "daemon.log";
  // No -H: LISTEN_FDS makes imaged use the activated socket by itself.
  Process p({"systemd-socket-activate", "-l", sock.string(), binary_path("daemon/imaged").string(),
             "--data-root", (dir / "root").string()},
            po);
  CHECK(wait_until([&] { return imaged::testing::ping(sock); }, 20s));
  auto r =
      run({"curl", "-sS", "--unix-socket", sock.string(), "http://localhost/v1.41/version"}, 10s);
  CHECK(r.out.find("\"ApiVersion\":\"1.50\"") != std::string::npos);
  CHECK(read_text(dir / "daemon.log").find("(fd://") != std::string::npos);
  p.signal(SIGTERM);
  CHECK(p.wait(20s) == 0);
}

TEST_CASE("systemd: -H fd:// selects the activated socket explicitly", "[daemon][e2e]") {
  if (!have("systemd-socket-activate")) {
    WARN("systemd-socket-activate not installed; skipped");
    return;
  }
  TempDir dir("imaged-activation");
  auto sock = dir / "activated.sock";
  Process p({"systemd-socket-activate", "-l", sock.string(), "--fdname=imaged.socket",
             binary_path("daemon/imaged").string(), "--data-root", (dir / "root").string(), "-H",
             "fd://imaged.socket"});
  CHECK(wait_until([&] { return imaged::testing::ping(sock); }, 20s));
}

TEST_CASE("systemd: -H fd:// without activation is a clear error", "[daemon][e2e]") {
  TempDir dir("imaged-activation");
  auto r = run({binary_path("daemon/imaged").string(), "--data-root", (dir / "root").string(), "-H",
                "fd://"},
               20s);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("no sockets found via socket activation") != std::string::npos);
}

TEST_CASE("systemd: READY=1 once serving, STOPPING=1 on SIGTERM", "[daemon][e2e]") {
  TempDir dir("imaged-notify");
  NotifySocket notify(dir / "notify.sock");
  imaged::testing::Daemon d({.env = {{"NOTIFY_SOCKET", (dir / "notify.sock").string()}}});
  CHECK(wait_until([&] { return notify.drain().find("READY=1") != std::string::npos; }, 10s));
  CHECK(notify.drain().find("STATUS=serving on unix://") != std::string::npos);
  d.process().signal(SIGTERM);
  CHECK(wait_until([&] { return notify.drain().find("STOPPING=1") != std::string::npos; }, 10s));
  CHECK(d.process().wait(10s) == 0);
}

TEST_CASE("systemd: the unit files pass systemd-analyze verify", "[daemon]") {
  if (!have("systemd-analyze")) {
    WARN("systemd-analyze not installed; skipped");
    return;
  }
  // verify checks that ExecStart exists: point a copy of the service at the built binary.
  TempDir dir("imaged-units");
  std::string service = read_text(source_path("systemd/imaged.service"));
  auto pos = service.find("/usr/local/sbin/imaged");
  REQUIRE(pos != std::string::npos);
  service.replace(pos, std::strlen("/usr/local/sbin/imaged"),
                  binary_path("daemon/imaged").string());
  std::ofstream(dir / "imaged.service") << service;
  std::ofstream(dir / "imaged.socket") << read_text(source_path("systemd/imaged.socket"));
  auto r = run({"systemd-analyze", "verify", (dir / "imaged.service").string(),
                (dir / "imaged.socket").string()},
               60s);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
}

TEST_CASE("systemd: the units agree with the daemon's defaults", "[daemon]") {
  auto service = read_text(source_path("systemd/imaged.service"));
  auto socket = read_text(source_path("systemd/imaged.socket"));
  CHECK(service.find("Type=notify") != std::string::npos);
  CHECK(service.find("Requires=imaged.socket") != std::string::npos);
  CHECK(service.find("ReadWritePaths=/var/lib/imaged") != std::string::npos);
  CHECK(service.find("ProtectSystem=strict") != std::string::npos);
  CHECK(socket.find("ListenStream=/run/imaged.sock") != std::string::npos);
  CHECK(socket.find("SocketMode=0660") != std::string::npos);
  CHECK(socket.find("SocketGroup=imaged") != std::string::npos);
}
