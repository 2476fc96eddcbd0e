// `docker run` and the container commands end to end: the real docker CLI against imaged, with
// busybox:musl from a local registry used as the Docker Hub mirror (engine-api.md §4, the seed's
// "Test both tags work" step). Outputs, exit codes and what is left behind are checked.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "tests/api/raw_http.h"
#include "tests/daemon/daemon_fixture.h"
#include "tests/support/registry.h"
#include "tests/support/temp_dir.h"
#include "tests/support/text.h"

using namespace imaged::testing;
using nlohmann::json;

namespace {

struct Runner {
  TestRegistry registry;
  std::unique_ptr<Daemon> daemon;

  explicit Runner(bool pull = true) {
    push_fixture(registry, "seed");
    daemon = std::make_unique<Daemon>(mirrored(registry.host()));
    if (pull) REQUIRE(docker({"pull", "-q", "busybox:musl"}).exit_code == 0);
  }
  RunResult docker(const std::vector<std::string>& args) const { return daemon->docker(args); }
  RunResult shell(const std::string& script, std::string stdin_data = {}) const {
    return daemon->shell(script, std::move(stdin_data));
  }
  // `docker <args>` on a terminal (script(1)) typing `input`; the output ends with "rc=<code>".
  RunResult on_terminal(const std::string& args, const std::string& input) const {
    return shell("set +e; printf '" + input + "' | script -qec \"docker " + args +
                 "\" /dev/null; echo \"rc=${PIPESTATUS[1]}\"");
  }
  // Nothing is left: no container listed, no container directory.
  void check_clean() const {
    CHECK(docker({"ps", "-aq"}).out.empty());
    auto dir = daemon->data_root() / "containers";
    CHECK((!std::filesystem::exists(dir) || std::filesystem::is_empty(dir)));
  }
};

}  // namespace

TEST_CASE("e2e run: docker run --rm prints the output and exits with the command's code",
          "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  auto musl = r.docker({"run", "--rm", "busybox:musl", "echo", "Testing musl tag"});
  CHECK(musl.exit_code == 0);
  CHECK(musl.out == "Testing musl tag\n");
  CHECK(musl.err.empty());
  REQUIRE(r.docker({"tag", "busybox:musl", "busybox:media"}).exit_code == 0);
  CHECK(r.docker({"run", "--rm", "busybox:media", "echo", "Testing media tag"}).out ==
        "Testing media tag\n");

  auto code =
      r.docker({"run", "--rm", "busybox:musl", "sh", "-c", "echo out; echo err >&2; exit 3"});
  CHECK(code.exit_code == 3);
  CHECK(code.out == "out\n");
  CHECK(code.err == "err\n");

  auto missing = r.docker({"run", "--rm", "busybox:musl", "nosuchcmd"});
  CHECK(missing.exit_code == 127);
  CHECK(contains(missing.err, "exec: \"nosuchcmd\": executable file not found in $PATH"));
  CHECK_FALSE(contains(missing.err, "Error waiting for container"));
  r.check_clean();
}

TEST_CASE("e2e run: stdin, isolation, environment, volumes", "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  auto cat = r.shell("docker run --rm -i busybox:musl busybox cat", "hello\nworld\n");
  CHECK(cat.exit_code == 0);
  CHECK(cat.out == "hello\nworld\n");

  // -t: a terminal of the container's own /dev/pts, sized as the CLI's; -it: input through it.
  auto tty = r.shell(
      "script -qec \"stty rows 40 cols 120; docker run --rm -t busybox:musl sh -c "
      "'tty; busybox stty size'\" /dev/null");
  INFO(tty.out << tty.err);
  CHECK(contains(tty.out, "/dev/pts/0\r"));
  CHECK(contains(tty.out, "40 120\r"));
  auto interactive = r.on_terminal("run --rm -it busybox:musl sh", "echo $((6*7)); exit 3\\n");
  CHECK(contains(interactive.out, "42\r"));
  CHECK(contains(interactive.out, "rc=3"));

  auto inside =
      r.docker({"run", "--rm", "-e", "FOO=bar", "-w", "/work/dir", "busybox:musl", "sh", "-c",
                "echo $FOO; pwd; echo $$; busybox hostname | busybox wc -c; "
                "busybox ip -o link | busybox wc -l"});
  INFO(inside.err);
  CHECK(inside.out == "bar\n/work/dir\n1\n13\n1\n");  // PID 1; the short ID; lo only

  // What a container writes stays in it: the next one sees the image as it is.
  CHECK(
      r.docker({"run", "--rm", "busybox:musl", "sh", "-c", "echo x > /bin/new; busybox rm /bin/ls"})
          .exit_code == 0);
  CHECK(r.docker({"run", "--rm", "busybox:musl", "sh", "-c", "busybox ls /bin"}).out ==
        "busybox\necho\nls\nsh\n");

  TempDir host("imaged-run-volume");
  { std::ofstream(host / "in") << "from host"; }
  auto rw = r.docker({"run", "--rm", "-v", host.path().string() + ":/data", "busybox:musl", "sh",
                      "-c", "busybox cat /data/in; echo written > /data/out"});
  CHECK(rw.out == "from host");
  CHECK(std::filesystem::exists(host / "out"));
  auto ro = r.docker({"run", "--rm", "-v", host.path().string() + ":/data:ro", "busybox:musl", "sh",
                      "-c", "echo x > /data/ro"});
  CHECK(ro.exit_code != 0);
  CHECK(contains(ro.err, "Read-only file system"));
  CHECK_FALSE(std::filesystem::exists(host / "ro"));
  r.check_clean();
}

TEST_CASE("e2e run: detached container with ps, logs, inspect, stop, start, rm",
          "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  auto started = r.docker({"run", "-d", "--name", "sleeper", "-l", "team=img", "busybox:musl", "sh",
                           "-c", "echo started; busybox sleep 600"});
  REQUIRE(started.exit_code == 0);
  std::string id = started.out.substr(0, 64);
  CHECK(r.docker({"ps", "--format", "{{.Names}} {{.Image}} {{.Status}}"})
            .out.starts_with("sleeper busybox:musl Up "));
  CHECK(r.docker({"ps", "-q", "--filter", "label=team=img"}).out == id.substr(0, 12) + "\n");
  CHECK(r.docker({"ps", "-q", "--filter", "label=team=other"}).out.empty());
  // The output is kept as it comes.
  for (int i = 0; i < 50 && r.docker({"logs", "sleeper"}).out.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(r.docker({"logs", "sleeper"}).out == "started\n");

  auto inspect = json::parse(r.docker({"inspect", "sleeper"}).out)[0];
  CHECK(inspect["Id"] == id);
  CHECK(inspect["Name"] == "/sleeper");
  CHECK(inspect["State"]["Status"] == "running");
  CHECK(inspect["Config"]["Labels"]["team"] == "img");
  CHECK(inspect["Image"] ==
        json::parse(r.docker({"image", "inspect", "busybox:musl"}).out)[0]["Id"]);

  auto rm_running = r.docker({"rm", "sleeper"});
  CHECK(rm_running.exit_code != 0);
  CHECK(contains(rm_running.err, "container is running"));

  CHECK(r.docker({"stop", "-t", "1", "sleeper"}).out == "sleeper\n");
  CHECK(r.docker({"ps", "-q"}).out.empty());
  CHECK(contains(r.docker({"ps", "-a", "--format", "{{.Status}}"}).out, "Exited (137)"));
  CHECK(r.docker({"inspect", "-f", "{{.State.ExitCode}}", "sleeper"}).out == "137\n");

  // A second start runs the command again and appends to the logs.
  CHECK(r.docker({"start", "sleeper"}).exit_code == 0);
  CHECK(r.docker({"kill", "sleeper"}).exit_code == 0);
  CHECK(r.docker({"wait", "sleeper"}).out == "137\n");
  CHECK(r.docker({"logs", "sleeper"}).out == "started\nstarted\n");

  CHECK(r.docker({"rm", "sleeper"}).out == "sleeper\n");
  auto gone = r.docker({"logs", "sleeper"});
  CHECK(gone.exit_code != 0);
  CHECK(contains(gone.err, "No such container: sleeper"));
  r.check_clean();

  // Name conflicts and prune.
  REQUIRE(r.docker({"create", "--name", "twice", "busybox:musl", "echo"}).exit_code == 0);
  auto again = r.docker({"create", "--name", "twice", "busybox:musl", "echo"});
  CHECK(again.exit_code != 0);
  CHECK(contains(again.err, "is already in use by container"));
  CHECK(contains(r.docker({"container", "prune", "-f"}).out, "Deleted Containers:"));
  r.check_clean();
}

TEST_CASE("e2e run: an image not stored yet is pulled first", "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r(/*pull=*/false);
  auto run = r.docker({"run", "--rm", "busybox:musl", "echo", "pulled"});
  CHECK(run.exit_code == 0);
  CHECK(contains(run.err, "Unable to find image 'busybox:musl' locally"));
  CHECK(run.out.ends_with("pulled\n"));
  r.check_clean();
}

TEST_CASE("e2e run: events of a run, in dockerd's order", "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  REQUIRE(r.docker({"run", "--rm", "--name", "evented", "busybox:musl", "echo"}).exit_code == 0);
  // --until is whole seconds: let the current one end.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  auto events = r.docker({"events", "--since", "1m", "--until", "0s", "--filter", "type=container",
                          "--format", "{{.Action}} {{.Actor.Attributes.name}}"});
  CHECK(events.out ==
        "create evented\nattach evented\nstart evented\ndie evented\ndestroy evented\n");
}

TEST_CASE("e2e run: the captured docker run sequence over raw HTTP (engine-api.md §4.1)",
          "[containers][e2e]") {
  Runner r;
  auto created = r.daemon->curl(
      {"-X", "POST", "-H", "Content-Type: application/json", "-d",
       R"({"Image":"busybox:musl","Cmd":["echo","hi"],"AttachStdout":true,)"
       R"("AttachStderr":true,"HostConfig":{"AutoRemove":true,"NetworkMode":"none"}})",
       "http://localhost/v1.41/containers/create"});
  std::string id = json::parse(created.out)["Id"];
  REQUIRE(id.size() == 64);

  RawHttp attach(r.daemon->socket());
  attach.send("POST /v1.41/containers/" + id +
              "/attach?stderr=1&stdout=1&stream=1 HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\n"
              "Upgrade: tcp\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n\r\n");
  auto upgraded = attach.read_until("\r\n\r\n", std::chrono::seconds(10));
  CHECK(upgraded.starts_with("HTTP/1.1 101 UPGRADED\r\n"));
  CHECK(contains(upgraded, "Content-Type: application/vnd.docker.raw-stream\r\n"));
  CHECK(contains(upgraded, "Upgrade: tcp\r\n"));
  attach.shutdown_write();  // the CLI half-closes: no stdin

  // The wait answer's headers come before the container is even started.
  RawHttp wait(r.daemon->socket());
  wait.send("POST /v1.41/containers/" + id +
            "/wait?condition=removed HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n");
  auto head = wait.read_until("\r\n\r\n", std::chrono::seconds(10));
  CHECK(head.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(contains(head, "Content-Type: application/json\r\n"));

  CHECK(r.daemon
            ->curl({"-X", "POST", "-o", "/dev/null", "-w", "%{http_code}",
                    "http://localhost/v1.41/containers/" + id + "/start"})
            .out == "204");
  auto output = attach.read_until("hi\n", std::chrono::seconds(10));
  CHECK(contains(output, std::string("\x01\0\0\0\0\0\0\x03hi\n", 11)));
  CHECK(attach.closed_by_peer(std::chrono::seconds(10)));
  CHECK(contains(wait.read_until("}\n", std::chrono::seconds(10)),
                 R"({"Error":null,"StatusCode":0})"));
  r.check_clean();

  // A missing container: a JSON 404 instead of the switch.
  RawHttp missing(r.daemon->socket());
  missing.send(
      "POST /v1.41/containers/nosuch/attach?stream=1 HTTP/1.1\r\nHost: d\r\nConnection: "
      "Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n");
  auto answer = missing.read_response(std::chrono::seconds(10));
  REQUIRE(answer);
  CHECK(status_of(*answer) == 404);
  CHECK(contains(*answer, R"({"message":"No such container: nosuch"})"));
}

TEST_CASE("e2e run: rmi and prune keep the images of containers, as dockerd",
          "[containers][images][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  std::string id =
      r.docker({"image", "inspect", "-f", "{{.Id}}", "busybox:musl"}).out.substr(7, 12);
  std::string holder =
      r.docker({"create", "--name", "holder", "busybox:musl", "echo"}).out.substr(0, 12);
  auto by_name = r.docker({"rmi", "busybox:musl"});
  CHECK(by_name.err ==
        "Error response from daemon: conflict: unable to remove repository reference "
        "\"busybox:musl\" (must force) - container " +
            holder + " is using its referenced image " + id + "\n");
  auto by_id = r.docker({"rmi", id});
  CHECK(by_id.err == "Error response from daemon: conflict: unable to delete " + id +
                         " (must be forced) - image is being used by stopped container " + holder +
                         "\n");
  CHECK(r.docker({"image", "prune", "-af"}).out == "Total reclaimed space: 0B\n");

  std::string runner =
      r.docker({"run", "-d", "--name", "runner", "busybox:musl", "busybox", "sleep", "600"})
          .out.substr(0, 12);
  auto forced = r.docker({"rmi", "-f", id});
  CHECK(forced.err == "Error response from daemon: conflict: unable to delete " + id +
                          " (cannot be forced) - image is being used by running container " +
                          runner + "\n");
  // Forced by name: untagged, but the running container's image stays (dangling).
  CHECK(r.docker({"rm", "holder"}).exit_code == 0);
  CHECK(contains(r.docker({"rmi", "-f", "busybox:musl"}).out, "Untagged: busybox:musl\n"));
  CHECK(r.docker({"images", "-aq"}).out == id + "\n");
  CHECK(r.docker({"rm", "-f", "runner"}).exit_code == 0);
  CHECK(contains(r.docker({"image", "prune", "-f"}).out, "deleted: sha256:" + id));
  r.check_clean();
}

TEST_CASE("e2e run: docker exec in a running container", "[containers][e2e]") {
  REQUIRE_FALSE(docker_cli().empty());
  Runner r;
  REQUIRE(r.docker({"run", "-d", "--name", "box", "-e", "A=1", "busybox:musl", "busybox", "sleep",
                    "600"})
              .exit_code == 0);
  CHECK(r.docker({"exec", "box", "echo", "hi"}).out == "hi\n");
  auto env = r.docker({"exec", "-e", "B=2", "-w", "/etc", "box", "sh", "-c",
                       "echo $A $B; pwd; busybox tr '\\0' ' ' < /proc/1/cmdline; echo; exit 7"});
  CHECK(env.exit_code == 7);
  CHECK(env.out == "1 2\n/etc\nbusybox sleep 600 \n");  // the container's env and PID 1

  auto missing = r.docker({"exec", "box", "nosuch"});
  CHECK(missing.exit_code == 127);
  CHECK(contains(missing.out + missing.err,
                 "OCI runtime exec failed: exec failed: unable to start container process: exec: "
                 "\"nosuch\": executable file not found in $PATH"));

  auto piped = r.shell("docker exec -i box busybox cat", "through stdin\n");
  CHECK(piped.exit_code == 0);
  CHECK(piped.out == "through stdin\n");
  auto tty = r.on_terminal("exec -it box sh", "tty; exit 4\\n");
  CHECK(contains(tty.out, "/dev/pts/0\r"));
  CHECK(contains(tty.out, "rc=4"));

  CHECK(r.docker({"exec", "-d", "box", "sh", "-c", "echo detached > /etc/marker"}).exit_code == 0);
  std::string marker;
  for (int i = 0; i < 50 && marker.empty(); ++i) {
    marker = r.docker({"exec", "box", "busybox", "cat", "/etc/marker"}).out;
    if (marker.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(marker == "detached\n");

  REQUIRE(r.docker({"stop", "-t", "0", "box"}).exit_code == 0);
  auto stopped = r.docker({"exec", "box", "echo"});
  CHECK(stopped.exit_code != 0);
  CHECK(contains(stopped.err, "is not running"));
  CHECK(r.docker({"rm", "box"}).exit_code == 0);
  r.check_clean();
}
