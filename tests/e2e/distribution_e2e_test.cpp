// End to end: GET /distribution/{name}/json on the imaged binary (curl on its socket), with a real
// registry as the Docker Hub mirror and one reached by name. The docker CLI only calls this
// endpoint from `docker service create/update` (swarm), so curl stands in for it. Expected
// bodies are byte for byte what dockerd 20.10.24 answered for the same fixtures.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/daemon/daemon_fixture.h"
#include "tests/support/registry.h"

using namespace imaged::testing;
using nlohmann::json;

namespace {

struct Reply {
  int status = 0;
  std::string body;
};

// GET <path> on the daemon's socket: the status and the exact body.
Reply get(const Daemon& daemon, const std::string& path) {
  auto r = daemon.curl({"-w", "\n%{http_code}", "http://d" + path});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const size_t nl = r.out.rfind('\n');
  REQUIRE(nl != std::string::npos);
  return {std::stoi(r.out.substr(nl + 1)), r.out.substr(0, nl)};
}

std::string descriptor(const json& img) {
  return "{\"mediaType\":\"" + img["media_type"].get<std::string>() + "\",\"digest\":\"" +
         img["manifest_digest"].get<std::string>() +
         "\",\"size\":" + std::to_string(img["manifest_size"].get<int64_t>()) + "}";
}

const std::string kAllPlatforms =
    "[{\"architecture\":\"amd64\",\"os\":\"linux\"},{\"architecture\":\"arm64\",\"os\":\"linux\","
    "\"variant\":\"v8\"},{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}]";

}  // namespace

TEST_CASE("e2e: distribution inspect through the Docker Hub mirror", "[distribution][e2e]") {
  TestRegistry mirror;
  const json seed = json::parse(push_fixture(mirror, "seed"))["images"][0];
  const json multi = json::parse(push_fixture(mirror, "multiarch"))["images"];
  Daemon daemon(mirrored(mirror.host()));

  {  // A single manifest: the platform of its config.
    auto r = get(daemon, "/v1.41/distribution/busybox:musl/json");
    CHECK(r.status == 200);
    CHECK(r.body == "{\"Descriptor\":" + descriptor(seed) +
                        ",\"Platforms\":[{\"architecture\":\"amd64\",\"os\":\"linux\"}]}\n");
    // Unversioned and by digest: the same answer.
    CHECK(get(daemon, "/distribution/docker.io/library/busybox@" +
                          seed["manifest_digest"].get<std::string>() + "/json")
              .body == r.body);
  }
  {  // A manifest list and an OCI index: every platform.
    for (const json& img : multi) {
      INFO(img["tag"]);
      auto r =
          get(daemon, "/v1.41/distribution/busybox:" + img["tag"].get<std::string>() + "/json");
      CHECK(r.status == 200);
      CHECK(r.body ==
            "{\"Descriptor\":" + descriptor(img) + ",\"Platforms\":" + kAllPlatforms + "}\n");
    }
  }
  {  // An unknown tag: 404 with the registry's message.
    auto r = get(daemon, "/v1.41/distribution/busybox:nosuch/json");
    CHECK(r.status == 404);
    CHECK(r.body == "{\"message\":\"manifest unknown: manifest unknown\"}\n");
  }
  {  // Invalid names: 400.
    auto r = get(daemon, "/v1.41/distribution/busybox:@/json");
    CHECK(r.status == 400);
    CHECK(r.body == "{\"message\":\"invalid reference format\"}\n");
    CHECK(get(daemon, "/v1.41/distribution/scratch/json").body ==
          "{\"message\":\"'scratch' is a reserved name\"}\n");
  }
  // API 1.29: 400, the route exists from 1.30.
  CHECK(get(daemon, "/v1.29/distribution/busybox:musl/json").status == 400);
}

TEST_CASE("e2e: distribution inspect of a private registry with X-Registry-Auth",
          "[distribution][e2e]") {
  TestRegistry mirror;
  TestRegistry priv({.user = "bob", .password = "pw"});
  const json multi = json::parse(push_fixture(priv, "multiarch"))["images"][0];
  Daemon daemon(mirrored(mirror.host()));
  const std::string path = "/v1.41/distribution/" + priv.host() +
                           "/library/busybox:" + multi["tag"].get<std::string>() + "/json";
  // {"username":"bob","password":"pw"} and {"username":"bob","password":"no"}, base64url.
  const std::string good = "eyJ1c2VybmFtZSI6ImJvYiIsInBhc3N3b3JkIjoicHcifQ==";
  const std::string bad = "eyJ1c2VybmFtZSI6ImJvYiIsInBhc3N3b3JkIjoibm8ifQ==";

  auto ok = daemon.curl({"-H", "X-Registry-Auth: " + good, "http://d" + path});
  CHECK(ok.out ==
        "{\"Descriptor\":" + descriptor(multi) + ",\"Platforms\":" + kAllPlatforms + "}\n");

  auto refused =
      daemon.curl({"-w", "\n%{http_code}", "-H", "X-Registry-Auth: " + bad, "http://d" + path});
  CHECK(refused.out == "{\"message\":\"unauthorized: authentication required\"}\n\n401");
}
