#include "api/listen_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>

#include "tests/support/temp_dir.h"

using imaged::Errc;
using imaged::api::listen_unix;
using imaged::testing::TempDir;

namespace {

// Leaves a socket file behind with nobody listening (as a crashed daemon does).
void make_stale_socket(const std::filesystem::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  ::close(fd);
}

}  // namespace

TEST_CASE("listen socket: a Unix socket gets the requested mode", "[api]") {
  TempDir dir;
  auto fd = listen_unix(dir / "a.sock", 0600);
  REQUIRE(fd);
  struct stat st {};
  REQUIRE(::stat((dir / "a.sock").c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(imaged::api::is_stream_listener(fd->get()));
  CHECK(imaged::api::describe_listener(fd->get()) == "unix://" + (dir / "a.sock").string());
}

TEST_CASE("listen socket: missing parent directories are created", "[api]") {
  TempDir dir;
  CHECK(listen_unix(dir / "run/sub/a.sock"));
}

TEST_CASE("listen socket: a stale socket file is replaced", "[api]") {
  TempDir dir;
  make_stale_socket(dir / "s.sock");
  REQUIRE(std::filesystem::exists(dir / "s.sock"));
  CHECK(listen_unix(dir / "s.sock"));
}

TEST_CASE("listen socket: a live listener is never taken over", "[api]") {
  TempDir dir;
  auto first = listen_unix(dir / "s.sock");
  REQUIRE(first);
  auto second = listen_unix(dir / "s.sock");
  REQUIRE_FALSE(second);
  CHECK(second.error().code == Errc::AlreadyExists);
  CHECK(second.error().message ==
        "another daemon is already listening on " + (dir / "s.sock").string());
  CHECK(std::filesystem::exists(dir / "s.sock"));
}

TEST_CASE("listen socket: a regular file in the way is an error, not deleted", "[api]") {
  TempDir dir;
  std::ofstream(dir / "file") << "x";
  auto fd = listen_unix(dir / "file");
  REQUIRE_FALSE(fd);
  CHECK(fd.error().message.find("not a socket") != std::string::npos);
  CHECK(std::filesystem::is_regular_file(dir / "file"));
}

TEST_CASE("listen socket: TCP on loopback", "[api]") {
  auto fd = imaged::api::listen_tcp("127.0.0.1", 0);
  REQUIRE(fd);
  CHECK(imaged::api::is_stream_listener(fd->get()));
  CHECK(imaged::api::describe_listener(fd->get()).starts_with("tcp://127.0.0.1:"));
}
