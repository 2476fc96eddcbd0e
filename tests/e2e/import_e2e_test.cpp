// End to end: `docker import` (POST /images/create?fromSrc=…) with the real docker CLI against
// imaged — a tarball with --change and -m, a compressed one, and side by side with dockerd 20.10:
// the same config (Cmd, Env, Labels, ExposedPorts…), comment, layers (diff_ids), size and
// history.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/compress.h"
#include "tests/support/registry.h"
#include "tests/support/tar_builder.h"
#include "tests/support/text.h"

using namespace imaged::testing;
using nlohmann::json;

namespace {

std::string rootfs() {
  return make_tar({{.path = "bin", .type = AE_IFDIR},
                   {.path = "bin/hello", .data = "#!/bin/sh\necho hello\n"},
                   {.path = "etc/motd", .data = "imported\n"}});
}

std::filesystem::path write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

const std::vector<std::string> kChanges = {"--change", "CMD [\"sh\"]",  "--change", "ENV A=b",
                                           "--change", "LABEL org.x=y", "--change", "EXPOSE 80",
                                           "--change", "WORKDIR /srv",  "-m",       "from a test"};

std::vector<std::string> import_args(const std::filesystem::path& tar, const std::string& ref) {
  std::vector<std::string> args{"import"};
  args.insert(args.end(), kChanges.begin(), kChanges.end());
  args.push_back(tar.string());
  args.push_back(ref);
  return args;
}

// What two daemons must agree on for an imported image.
json comparable(const std::string& inspect_json) {
  json i = json::parse(inspect_json)[0];
  return {{"Config", i["Config"]},
          {"Comment", i["Comment"]},
          {"RootFS", i["RootFS"]},
          {"Size", i["Size"]},
          {"Os", i["Os"]},
          {"Architecture", i["Architecture"]},
          {"RepoTags", i["RepoTags"]},
          {"RepoDigests", i["RepoDigests"]},
          {"Parent", i["Parent"]},
          {"Author", i["Author"]}};
}

}  // namespace

TEST_CASE("e2e: docker import with --change and -m, then inspect, history, run it through rmi",
          "[import][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  Daemon daemon;
  const auto tar = write_file(daemon.dir() / "rootfs.tar", rootfs());
  auto imported = daemon.docker(import_args(tar, "imported:v1"));
  INFO(imported.out << imported.err << daemon.log());
  REQUIRE(imported.exit_code == 0);
  REQUIRE(imported.out.starts_with("sha256:"));
  const std::string id = imported.out.substr(0, 71);

  auto inspect = daemon.docker({"image", "inspect", "imported:v1"});
  REQUIRE(inspect.exit_code == 0);
  json i = json::parse(inspect.out)[0];
  CHECK(i["Id"] == id);
  CHECK(i["Comment"] == "from a test");
  CHECK(i["Config"]["Cmd"] == json{"sh"});
  CHECK(i["Config"]["Env"] == json{"A=b"});
  CHECK(i["Config"]["Labels"] == json{{"org.x", "y"}});
  CHECK(i["Config"]["ExposedPorts"] == json{{"80/tcp", json::object()}});
  CHECK(i["Config"]["WorkingDir"] == "/srv");
  CHECK(i["RootFS"]["Layers"].size() == 1);
  CHECK(i["Size"] == 30);  // 21 + 9 bytes of files

  auto history = daemon.docker({"history", "--no-trunc", "--format",
                                "{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}", "imported:v1"});
  REQUIRE(history.exit_code == 0);
  CHECK(history.out == id + "||30B|from a test\n");

  // A gzip-compressed tarball from stdin-like "-" and no tag: untagged, its ID printed.
  const auto gz = write_file(daemon.dir() / "rootfs.tar.gz", gzip(rootfs()));
  auto untagged = daemon.docker({"import", gz.string()});
  INFO(untagged.out << untagged.err);
  REQUIRE(untagged.exit_code == 0);
  auto layers = daemon.docker(
      {"image", "inspect", "-f", "{{.RootFS.Layers}}{{.Comment}}", untagged.out.substr(0, 71)});
  CHECK(layers.out == "[" + i["RootFS"]["Layers"][0].get<std::string>() + "]Imported from -\n");

  // Not a tar; a change dockerd refuses.
  const auto junk = write_file(daemon.dir() / "junk", std::string(4096, 'x'));
  auto bad = daemon.docker({"import", junk.string(), "junk:1"});
  CHECK(bad.exit_code != 0);
  CHECK(contains(bad.err, "not a tar archive"));
  auto run_change = daemon.docker({"import", "--change", "RUN echo hi", tar.string(), "x:1"});
  CHECK(run_change.exit_code != 0);
  CHECK(contains(run_change.err, "run is not a valid change command"));

  auto rmi = daemon.docker({"rmi", "imported:v1"});
  CHECK(rmi.exit_code == 0);
  CHECK(contains(rmi.out, "Deleted: " + id));
}

TEST_CASE("e2e: docker import gives what dockerd 20.10 gives", "[import][e2e][dockerd]") {
  REQUIRE_FALSE(docker_cli().empty());  // scripts/install-deps.sh installs docker.io
  TestRegistry mirror;  // dockerd-side.sh wants a loopback mirror; nothing is pulled
  Daemon daemon;
  const auto tar = write_file(daemon.dir() / "rootfs.tar", rootfs());
  Dockerd dockerd(mirror.host());
  if (!dockerd.started) return;  // no dockerd here: nothing to compare with
  // API 1.41 on both (dockerd 20.10's maximum), so that inspect has the same shape.
  auto docker = [&](std::vector<std::string> args, bool on_dockerd) {
    if (on_dockerd) args.insert(args.begin(), {"-H", dockerd.host});
    return daemon.docker(args, {{"DOCKER_API_VERSION", "1.41"}});
  };
  auto a = docker(import_args(tar, "imported:v1"), false);
  auto b = docker(import_args(tar, "imported:v1"), true);
  INFO(a.out << a.err << b.out << b.err);
  REQUIRE(a.exit_code == 0);
  REQUIRE(b.exit_code == 0);
  auto ia = docker({"image", "inspect", "imported:v1"}, false);
  auto ib = docker({"image", "inspect", "imported:v1"}, true);
  REQUIRE(ia.exit_code == 0);
  REQUIRE(ib.exit_code == 0);
  CHECK(comparable(ia.out).dump(1) == comparable(ib.out).dump(1));
  const std::string format = "{{.CreatedBy}}|{{.Size}}|{{.Comment}}";
  auto ha = docker({"history", "--format", format, "imported:v1"}, false);
  auto hb = docker({"history", "--format", format, "imported:v1"}, true);
  CHECK(ha.out == hb.out);
}
