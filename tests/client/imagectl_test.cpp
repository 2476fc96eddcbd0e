// Integration: the built imagectl against a live imaged (in a TempDir, a test registry as the
// Docker Hub mirror), as a user would run it.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <fstream>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text.h"

using namespace imaged::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::size_t lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

// imaged with a test registry as its Docker Hub mirror, and imagectl pointed at it.
struct CliDaemon : Daemon {
  explicit CliDaemon(const std::string& mirror) : Daemon(mirrored(mirror)) {}

  std::map<std::string, std::string> env() const {
    return {{"IMAGED_HOST", "unix://" + socket().string()},
            {"DOCKER_CONFIG", (dir() / "docker-config").string()}};
  }

  RunResult ctl(const std::vector<std::string>& args, const std::string& stdin_data = "") {
    std::vector<std::string> argv{binary_path("client/imagectl").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 120s, ProcessOptions{.env = env(), .stdin_data = stdin_data});
  }
};

// True when the daemon has no such route yet (another engineer's work in progress).

}  // namespace

TEST_CASE("client e2e: the seed scenario with imagectl", "[client][e2e]") {
  TestRegistry mirror;
  const json img = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const std::string layer = img["layers"][0]["digest"].get<std::string>().substr(7, 12);
  CliDaemon d(mirror.host());

  auto pull = d.ctl({"pull", "busybox:musl"});
  INFO(pull.out << pull.err);
  REQUIRE(pull.exit_code == 0);
  CHECK(contains(pull.out, "musl: Pulling from library/busybox\n"));
  CHECK(contains(pull.out, layer + ": Pull complete\n"));
  CHECK(contains(pull.out, "Summary: 1 layer, "));
  CHECK(contains(pull.out, "docker.io/library/busybox:musl\n"));
  CHECK_FALSE(contains(pull.out, "\x1b["));

  auto again = d.ctl({"pull", "-q", "busybox:musl"});
  CHECK(again.exit_code == 0);
  CHECK(again.out == "docker.io/library/busybox:musl\n");

  auto tag = d.ctl({"tag", "busybox:musl", "busybox:media"});
  INFO(tag.err);
  CHECK(tag.exit_code == 0);
  CHECK(tag.out.empty());

  auto images = d.ctl({"images"});
  REQUIRE(images.exit_code == 0);
  CHECK(images.out.starts_with("REPOSITORY   TAG       IMAGE ID       CREATED"));
  CHECK(contains(images.out, "busybox      media     "));
  CHECK(contains(images.out, "busybox      musl      "));
  CHECK(contains(images.out, "MB\n"));

  auto ids = d.ctl({"inspect", "-f", "{{.Id}}", "busybox:musl", "busybox:media"});
  REQUIRE(ids.exit_code == 0);
  auto nl = ids.out.find('\n');
  REQUIRE(nl != std::string::npos);
  std::string id = ids.out.substr(0, nl);
  CHECK(id.starts_with("sha256:"));
  CHECK(ids.out == id + "\n" + id + "\n");

  auto quiet = d.ctl({"images", "-q"});
  CHECK(quiet.out == id.substr(7, 12) + "\n");
  auto fmt = d.ctl({"images", "--format", "{{.Repository}}:{{.Tag}}"});
  CHECK(contains(fmt.out, "busybox:media\n"));
  CHECK(contains(fmt.out, "busybox:musl\n"));
  auto tbl = d.ctl({"images", "--format", "table {{.ID}}\\t{{.Size}}"});
  CHECK(tbl.out.starts_with("IMAGE ID       SIZE\n" + id.substr(7, 12) + "   "));
  auto js = d.ctl({"images", "--format", "json"});
  auto doc = json::parse(js.out);
  REQUIRE(doc.is_array());
  CHECK(doc.size() == 2);
  CHECK(doc[0]["ID"] == id.substr(7, 12));
  auto digests = d.ctl({"images", "--digests", "--no-trunc"});
  CHECK(contains(digests.out, "DIGEST"));
  CHECK(contains(digests.out, img["manifest_digest"].get<std::string>()));
  CHECK(contains(digests.out, id));
  auto filtered = d.ctl({"images", "--filter", "reference=busybox:media"});
  CHECK(lines(filtered.out) == 2);
  auto bad_format = d.ctl({"images", "--format", "{{.Bogus}}"});
  CHECK(bad_format.exit_code == 2);
  CHECK(contains(bad_format.err, "imagectl: invalid --format: unknown field .Bogus"));

  auto inspect = d.ctl({"inspect", "busybox:media"});
  REQUIRE(inspect.exit_code == 0);
  auto arr = json::parse(inspect.out);
  REQUIRE(arr.size() == 1);
  CHECK(arr[0]["Id"] == id);

  auto missing = d.ctl({"inspect", "nosuch:tag"});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out == "[]\n");
  CHECK(contains(missing.err, "imagectl: No such image: nosuch:tag"));

  auto history = d.ctl({"history", "busybox:media"});
  REQUIRE(history.exit_code == 0);
  CHECK(history.out.starts_with("IMAGE          CREATED"));
  CHECK(contains(history.out, id.substr(7, 12)));
  auto hq = d.ctl({"history", "-q", "--no-trunc", "busybox:media"});
  CHECK(contains(hq.out, id + "\n"));

  auto df = d.ctl({"df"});
  REQUIRE(df.exit_code == 0);
  CHECK(df.out.starts_with("TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE\n"));
  CHECK(contains(df.out, "Images          1         0         "));
  auto dfv = d.ctl({"df", "-v"});
  CHECK(contains(dfv.out, "Images space usage:"));

  // --until in the future: the daemon replays, streams live events, and closes at that time
  // (an `--until 0s` would end at the start of the current second and miss a fresh event).
  const std::string until = std::to_string(std::time(nullptr) + 2);
  auto events = d.ctl({"events", "--since", "10m", "--until", until, "--filter", "event=tag"});
  CHECK(events.exit_code == 0);
  CHECK(contains(events.out, " image tag " + id));
  CHECK(contains(events.out, "name=busybox:media"));

  auto rmi1 = d.ctl({"rmi", "busybox:media"});
  CHECK(rmi1.exit_code == 0);
  CHECK(rmi1.out == "Untagged: busybox:media\n");
  auto rmi2 = d.ctl({"rmi", "busybox:musl", "nosuch:tag"});
  CHECK(rmi2.exit_code == 1);
  CHECK(contains(rmi2.out, "Untagged: busybox:musl\n"));
  CHECK(contains(rmi2.out, "Deleted: " + id + "\n"));
  CHECK(contains(rmi2.err, "imagectl: No such image: nosuch:tag"));
  CHECK(d.ctl({"images", "-q"}).out.empty());

  auto prune = d.ctl({"prune", "-f"});
  CHECK(prune.exit_code == 0);
  CHECK(contains(prune.out, "Total reclaimed space: 0B"));
  auto no = d.ctl({"prune"}, "n\n");
  CHECK(no.exit_code == 0);
  CHECK(contains(no.out, "Are you sure you want to continue? [y/N]"));
}

TEST_CASE("client e2e: version, info and usage errors", "[client][e2e]") {
  TestRegistry mirror;
  CliDaemon d(mirror.host());
  auto version = d.ctl({"version"});
  INFO(version.err);
  CHECK(version.exit_code == 0);
  CHECK(contains(version.out, "Client:\n Version:"));
  CHECK(contains(version.out, "API version:"));
  auto api = d.ctl({"version", "--format", "{{.Server.ApiVersion}}"});
  CHECK(api.exit_code == 0);
  CHECK(api.out.size() >= 5);
  auto info = d.ctl({"info"});
  CHECK(info.exit_code == 0);
  CHECK(contains(info.out, "Images: 0"));
  auto usage = d.ctl({"pull"});
  CHECK(usage.exit_code == 2);
  CHECK(contains(usage.err, "imagectl: \"pull\" requires exactly 1 argument"));
  auto bad_ref = d.ctl({"tag", "busybox:musl", "busybox:Bad Tag!"});
  CHECK(bad_ref.exit_code == 1);
  CHECK(contains(bad_ref.err, "invalid reference format"));
  auto not_found = d.ctl({"pull", "busybox:nosuchtag"});
  CHECK(not_found.exit_code == 1);
  CHECK(contains(not_found.err, "imagectl: "));
  CHECK(contains(not_found.err, "not found"));
}

TEST_CASE("client e2e: a missing daemon gets a clear message", "[client][e2e]") {
  TempDir dir{"imagectl-nodaemon"};
  auto r = run({binary_path("client/imagectl").string(), "-H",
                "unix://" + (dir / "imaged.sock").string(), "images"},
               20s);
  CHECK(r.exit_code == 1);
  CHECK(contains(r.err, "imagectl: cannot connect to imaged at unix://"));
  CHECK(contains(r.err, "Is imaged running?"));
  CHECK(contains(r.err, "./scripts/run-daemon.sh"));
  // A socket file nobody listens on.
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, (dir / "dead.sock").c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    ::close(fd);
  }
  auto refused =
      run({binary_path("client/imagectl").string(), "images"}, 20s,
          ProcessOptions{.env = {{"IMAGED_HOST", "unix://" + (dir / "dead.sock").string()}}});
  CHECK(refused.exit_code == 1);
  CHECK(contains(refused.err, "(from IMAGED_HOST)"));
  CHECK(
      (contains(refused.err, "connection refused") || contains(refused.err, "permission denied")));
}

TEST_CASE("client e2e: a piped multi-layer pull stays short; a pty shows bars", "[client][e2e]") {
  TestRegistry mirror;
  push_fixture(mirror, "layers8");
  CliDaemon d(mirror.host());
  auto piped = d.ctl({"pull", "busybox:layers8"});
  INFO(piped.out << piped.err);
  REQUIRE(piped.exit_code == 0);
  CHECK(lines(piped.out) < 30);
  CHECK(contains(piped.out, "Summary: 8 layers"));
  REQUIRE(d.ctl({"rmi", "busybox:layers8"}).exit_code == 0);

  std::string cmd = binary_path("client/imagectl").string() + " -H unix://" + d.socket().string() +
                    " pull busybox:layers8";
  auto tty = run({"script", "-qec", cmd, "/dev/null"}, 120s);
  INFO(tty.out << tty.err);
  CHECK(tty.exit_code == 0);
  CHECK(contains(tty.out, "\x1b[2K"));
  CHECK(contains(tty.out, "Total: "));
  CHECK(contains(tty.out, ": Pull complete"));
  CHECK(contains(tty.out, "docker.io/library/busybox:layers8"));

  auto json_mode = d.ctl({"pull", "--progress=json", "busybox:layers8"});
  CHECK(json_mode.exit_code == 0);
  CHECK(contains(json_mode.out, "\"status\":\"Status: Image is up to date for busybox:layers8\""));
}

TEST_CASE("client e2e: save and load", "[client][e2e]") {
  TestRegistry mirror;
  push_fixture(mirror, "seed");
  CliDaemon d(mirror.host());
  auto pulled = d.ctl({"pull", "-q", "busybox:musl"});
  INFO(pulled.out << pulled.err);
  REQUIRE(pulled.exit_code == 0);

  auto tarball = d.dir() / "busybox.tar";
  auto save = d.ctl({"save", "-o", tarball.string(), "busybox:musl"});
  INFO(save.err);
  CHECK(save.exit_code == 0);
  CHECK(std::filesystem::file_size(tarball) > 1000000);
  auto to_tty = d.ctl({"save", "busybox:musl"});
  CHECK(to_tty.exit_code == 0);  // stdout is a pipe here: the tar goes there
  CHECK(to_tty.out.size() > 1000000);
  REQUIRE(d.ctl({"rmi", "busybox:musl"}).exit_code == 0);
  auto load = d.ctl({"load", "-i", tarball.string()});
  INFO(load.out << load.err);
  CHECK(load.exit_code == 0);
  CHECK(contains(load.out, "Loaded image: busybox:musl"));
  CHECK(d.ctl({"images", "-q"}).out.size() == 13);
}

TEST_CASE("client e2e: login, push and search", "[client][e2e]") {
  TestRegistry mirror;
  push_fixture(mirror, "seed");
  TestRegistry target(RegistryOptions{.user = "foo", .password = "bar"});
  CliDaemon d(mirror.host());
  auto pulled = d.ctl({"pull", "-q", "busybox:musl"});
  INFO(pulled.out << pulled.err);
  REQUIRE(pulled.exit_code == 0);

  auto login = d.ctl({"login", "-u", "foo", "--password-stdin", target.host()}, "bar\n");
  INFO(login.out << login.err);
  CHECK(login.exit_code == 0);
  CHECK(contains(login.out, "Login Succeeded"));
  std::ifstream cfg(d.dir() / "docker-config" / "config.json");
  REQUIRE(cfg);
  json config = json::parse(cfg);
  CHECK(config["auths"].contains(target.host()));
  auto wrong = d.ctl({"login", "-u", "foo", "-p", "nope", target.host()});
  CHECK(wrong.exit_code == 1);
  CHECK(contains(wrong.err, "imagectl: "));

  const std::string remote = target.host() + "/test/busybox:media";
  REQUIRE(d.ctl({"tag", "busybox:musl", remote}).exit_code == 0);
  auto push = d.ctl({"push", remote});
  INFO(push.out << push.err);
  CHECK(push.exit_code == 0);
  CHECK(contains(push.out, "The push refers to repository [" + target.host() + "/test/busybox]"));

  // The test registry has no v1 search: imaged answers from its catalog (with the login's
  // credentials, which imagectl sends as the docker CLI does).
  auto search = d.ctl({"search", target.host() + "/busy"});
  INFO(search.out << search.err);
  CHECK(search.exit_code == 0);
  CHECK(contains(search.out, "NAME"));
  CHECK(contains(search.out, target.host() + "/test/busybox"));
  auto names = d.ctl({"search", "--format", "{{.Name}}", "--limit", "5", target.host() + "/busy"});
  CHECK(names.out == target.host() + "/test/busybox\n");
}
