// End to end: the real docker CLI drives imaged for push, login, search, save and load.
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

TEST_CASE("e2e: docker push, push again, search", "[push][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  TestRegistry dst;
  const json img = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const std::string digest = img["manifest_digest"];
  Daemon daemon(mirrored(mirror.host()));
  REQUIRE(daemon.docker({"pull", "busybox:musl"}).exit_code == 0);
  const std::string target = dst.host() + "/team/busybox";
  REQUIRE(daemon.docker({"tag", "busybox:musl", target + ":media"}).exit_code == 0);

  auto pushed = daemon.docker({"push", target + ":media"});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(contains(pushed.out, "The push refers to repository [" + target + "]"));
  CHECK(contains(pushed.out, "3015f4f74b09: Pushed"));
  CHECK(contains(pushed.out, "media: digest: " + digest + " size: "));

  auto again = daemon.docker({"push", target + ":media"});
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(contains(again.out, "3015f4f74b09: Layer already exists"));

  auto missing = daemon.docker({"push", dst.host() + "/none/x:latest"});
  CHECK(missing.exit_code != 0);
  CHECK(contains(missing.err, "An image does not exist locally with the tag"));

  auto search = daemon.docker({"search", dst.host() + "/busy"});
  INFO(search.out << search.err);
  REQUIRE(search.exit_code == 0);
  CHECK(contains(search.out, dst.host() + "/team/busybox"));
}

TEST_CASE("e2e: docker login then push to an htpasswd registry", "[push][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  TestRegistry priv({.user = "alice", .password = "s3cret"});
  push_fixture(mirror, "seed");
  Daemon daemon(mirrored(mirror.host()));
  REQUIRE(daemon.docker({"pull", "busybox:musl"}).exit_code == 0);
  const std::string target = priv.host() + "/team/busybox:media";
  REQUIRE(daemon.docker({"tag", "busybox:musl", target}).exit_code == 0);

  auto denied = daemon.docker({"push", target});
  CHECK(denied.exit_code != 0);
  CHECK(contains(denied.err, priv.host()));

  auto wrong = daemon.docker({"login", priv.host(), "-u", "alice", "-p", "wrong"});
  CHECK(wrong.exit_code != 0);
  auto login = daemon.docker({"login", priv.host(), "-u", "alice", "-p", "s3cret"});
  INFO(login.out << login.err);
  REQUIRE(login.exit_code == 0);
  CHECK(contains(login.out, "Login Succeeded"));

  auto pushed = daemon.docker({"push", target});
  INFO(pushed.out << pushed.err);
  REQUIRE(pushed.exit_code == 0);
  CHECK(contains(pushed.out, "Pushed"));
}

TEST_CASE("e2e: docker save, rmi, load restores ID, tags and repo digests", "[archive][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  push_fixture(mirror, "seed");
  Daemon daemon(mirrored(mirror.host()));
  REQUIRE(daemon.docker({"pull", "busybox:musl"}).exit_code == 0);
  REQUIRE(daemon.docker({"tag", "busybox:musl", "busybox:media"}).exit_code == 0);
  const std::string format = "{{.Id}} {{.RepoTags}} {{.RepoDigests}}";
  auto before = daemon.docker({"image", "inspect", "--format", format, "busybox:media"});
  REQUIRE(before.exit_code == 0);

  const auto tar = daemon.dir() / "x.tar";
  auto saved = daemon.docker({"save", "busybox:media", "busybox:musl", "-o", tar.string()});
  INFO(saved.out << saved.err);
  REQUIRE(saved.exit_code == 0);
  REQUIRE(daemon.docker({"rmi", "busybox:media", "busybox:musl"}).exit_code == 0);
  CHECK(daemon.docker({"image", "inspect", "busybox:media"}).exit_code != 0);

  auto loaded = daemon.docker({"load", "-i", tar.string()});
  INFO(loaded.out << loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(contains(loaded.out, "Loaded image: busybox:media"));
  CHECK(contains(loaded.out, "Loaded image: busybox:musl"));
  auto after = daemon.docker({"image", "inspect", "--format", format, "busybox:media"});
  REQUIRE(after.exit_code == 0);
  CHECK(after.out == before.out);

  // A broken archive: an error, and the daemon keeps serving.
  std::ofstream(daemon.dir() / "bad.tar") << "this is not a tar archive";
  auto bad = daemon.docker({"load", "-i", (daemon.dir() / "bad.tar").string()});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.err, "not a tar"));
  CHECK(daemon.docker({"image", "inspect", "busybox:media"}).exit_code == 0);
}

TEST_CASE("e2e: archives move between imaged and dockerd 20.10 with the same image ID",
          "[archive][e2e][dockerd]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;
  const json img = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const std::string id = img["config_digest"];
  Daemon daemon(mirrored(mirror.host()));
  REQUIRE(daemon.docker({"pull", "busybox:musl"}).exit_code == 0);
  const auto tar = daemon.dir() / "x.tar";
  REQUIRE(daemon.docker({"save", "busybox:musl", "-o", tar.string()}).exit_code == 0);

  Dockerd dockerd(mirror.host());
  if (!dockerd.started) return;  // no dockerd here: nothing to compare with
  auto loaded = daemon.docker({"-H", dockerd.host, "load", "-i", tar.string()});
  INFO(loaded.out << loaded.err);
  REQUIRE(loaded.exit_code == 0);
  CHECK(contains(loaded.out, "Loaded image: busybox:musl"));
  auto in_dockerd = daemon.docker(
      {"-H", dockerd.host, "image", "inspect", "--format", "{{.Id}}", "busybox:musl"});
  CHECK(in_dockerd.out == id + "\n");

  // dockerd's legacy archive (uncompressed layer.tar) loads into imaged with the same ID.
  REQUIRE(daemon.docker({"-H", dockerd.host, "tag", "busybox:musl", "busybox:fromdd"}).exit_code ==
          0);
  const auto dd_tar = daemon.dir() / "dd.tar";
  REQUIRE(daemon.docker({"-H", dockerd.host, "save", "busybox:fromdd", "-o", dd_tar.string()})
              .exit_code == 0);
  auto back = daemon.docker({"load", "-i", dd_tar.string()});
  INFO(back.out << back.err);
  REQUIRE(back.exit_code == 0);
  CHECK(contains(back.out, "Loaded image: busybox:fromdd"));
  auto in_imaged = daemon.docker({"image", "inspect", "--format", "{{.Id}}", "busybox:fromdd"});
  CHECK(in_imaged.out == id + "\n");
}
