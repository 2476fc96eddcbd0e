// End to end: the docker SDK for Python (Debian's python3-docker under /usr/bin/python3, which
// scripts/install-deps.sh installs) drives imaged through tests/e2e/sdk_scenario.py: pull
// busybox:musl from the harness registry, tag, get, list, history, save/load roundtrip, remove.
// Skipped (with a warning) only when `import docker` fails.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

using namespace imaged::testing;
using nlohmann::json;

TEST_CASE("e2e: docker SDK for Python pull, tag, get, list, history, save/load, remove",
          "[sdk][e2e]") {
  const std::string python = "/usr/bin/python3";
  auto probe = run({python, "-c", "import docker"}, std::chrono::seconds(30));
  if (probe.exit_code != 0) {
    WARN("skipped: " << python
                     << " cannot import docker (apt-get install python3-docker): " << probe.err);
    return;
  }
  TestRegistry mirror;
  const json img = json::parse(push_fixture(mirror, "seed"))["images"][0];
  Daemon daemon(mirrored(mirror.host()));
  auto r = run({python, source_path("tests/e2e/sdk_scenario.py").string(),
                "unix://" + daemon.socket().string(), img["image_id"].get<std::string>(),
                img["manifest_digest"].get<std::string>()},
               std::chrono::seconds(180));
  INFO(r.out << r.err << "\ndaemon log:\n" << daemon.log());
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
}
