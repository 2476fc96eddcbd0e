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
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  auto pulled = daemon.docker({"pull", ref});
  INFO(pulled.out << pulled.err);
  REQUIRE(pulled.exit_code == 0);
  CHECK(contains(pulled.out, "y: Pulling from x\n"));
  CHECK(contains(pulled.out, "Status: Downloaded newer image for " + ref + "\n"));
  CHECK(pulled.out.ends_with(ref + "\n"));
}

TEST_CASE("e2e: docker pull of a multi-arch index, an OCI image and a zstd image", "[pull][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  const json seed = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const json multi = json::parse(push_fixture(mirror, "multiarch"))["images"][0];
  push_fixture(mirror, "oci");
  push_fixture(mirror, "zstd");
  Daemon daemon(mirrored(mirror.host()));
  auto id_of = [&](const std::string& ref) {
    return daemon.docker({"image", "inspect", "-f", "{{.Id}} {{.Architecture}}", ref}).out;
  };
  for (const char* tag : {"multi", "oci", "zstd"}) {
    auto pulled = daemon.docker({"pull", std::string("busybox:") + tag});
    INFO(pulled.out << pulled.err);
    CHECK(pulled.exit_code == 0);
    CHECK(pulled.out.ends_with(std::string("docker.io/library/busybox:") + tag + "\n"));
    // All three are the amd64 busybox image: one image ID, the config digest.
    CHECK(id_of(std::string("busybox:") + tag) == seed["image_id"].get<std::string>() + " amd64\n");
  }
  // Another platform from the index: its own image, its own config.
  auto arm = daemon.docker({"pull", "--platform", "linux/arm64", "busybox:multi"});
  INFO(arm.out << arm.err);
  CHECK(arm.exit_code == 0);
  CHECK(id_of("busybox:multi") ==
        multi["manifests"][1]["image_id"].get<std::string>() + " arm64\n");
  auto none = daemon.docker({"pull", "--platform", "linux/s390x", "busybox:multi"});
  CHECK(none.exit_code == 1);
  CHECK(contains(none.err, "no matching manifest for linux/s390x"));
}

TEST_CASE("e2e: docker login and pull through a bearer-token registry", "[pull][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  TestRegistry backing;
  push_fixture(backing, "seed");
  FaultProxy proxy(backing, {"--bearer", "--token-user", "bob:pw"});
  Daemon daemon(mirrored(mirror.host()));
  const std::string ref = proxy.host() + "/library/busybox:musl";
  auto wrong = daemon.docker({"login", proxy.host(), "-u", "bob", "-p", "nope"});
  CHECK(wrong.exit_code == 1);
  auto login = daemon.docker({"login", proxy.host(), "-u", "bob", "-p", "pw"});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(contains(login.out, "Login Succeeded"));
  auto pulled = daemon.docker({"pull", ref});
  INFO(pulled.out << pulled.err);
  CHECK(pulled.exit_code == 0);
  CHECK(pulled.out.ends_with(ref + "\n"));
}
