// GET /distribution/{name}/json at the handler level, over a fake registry lookup: the exact
// JSON dockerd writes, the version gate, name parsing and the error statuses.
#include <catch2/catch.hpp>

#include <optional>

#include "api/distribution_route.h"
#include "api/recording_writer.h"
#include "api/request.h"
#include "api/router.h"

using namespace imaged;
using namespace imaged::api;

namespace {

const Digest kDigest =
    Digest::parse("sha256:7ce7dd1b9065638a5eb1075b0b8cb7676ef6dcd46987d023c393b80b91ef170c")
        .value();

// A lookup that records what it was asked and answers `result`.
struct FakeInspect {
  Result<remotes::DistributionInfo> result;
  std::optional<Reference> asked;
  remotes::AuthConfig auth;

  DistributionInspectFn fn() {
    return [this](const Reference& ref, const remotes::AuthConfig& a) {
      asked = ref;
      auth = a;
      return result;
    };
  }
};

RecordingWriter get(FakeInspect& fake, const std::string& name, ApiVersion version = kMaxApiVersion,
                    std::optional<std::string> registry_auth = std::nullopt) {
  Request req;
  req.method = Method::Get;
  req.path = "/distribution/" + name + "/json";
  req.params["name"] = name;
  req.version = version;
  if (registry_auth) req.headers.add("X-Registry-Auth", *registry_auth);
  RecordingWriter w;
  handle_distribution_inspect(fake.fn(), req, w);
  return w;
}

remotes::DistributionInfo list_info() {
  return {.descriptor = {.media_type = std::string(oci::kDockerManifestList),
                         .digest = kDigest,
                         .size = 1105},
          .platforms = {{"linux", "amd64", "", "", {}},
                        {"linux", "arm64", "v8", "", {}},
                        {"windows", "amd64", "", "10.0.17763.1", {"win32k"}}}};
}

}  // namespace

TEST_CASE("distribution route: Descriptor and Platforms in dockerd's field order",
          "[api][distribution]") {
  FakeInspect fake{list_info()};
  auto w = get(fake, "busybox:multi");
  CHECK(w.status == 200);
  CHECK(w.content_type == "application/json");
  CHECK(w.body ==
        "{\"Descriptor\":{\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+"
        "json\",\"digest\":\"" +
            kDigest.str() +
            "\",\"size\":1105},\"Platforms\":[{\"architecture\":\"amd64\",\"os\":\"linux\"},{"
            "\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"},{\"architecture\":"
            "\"amd64\",\"os\":\"windows\",\"os.version\":\"10.0.17763.1\",\"os.features\":["
            "\"win32k\"]}]}\n");
  REQUIRE(fake.asked);
  CHECK(fake.asked->str() == "docker.io/library/busybox:multi");
}

TEST_CASE("distribution route: no platform known is null, as Go's nil slice",
          "[api][distribution]") {
  remotes::DistributionInfo info = list_info();
  info.descriptor.media_type = std::string(oci::kOciManifest);
  info.platforms.clear();
  FakeInspect fake{info};
  auto w = get(fake, "busybox:oci");
  CHECK(w.status == 200);
  CHECK(w.body.ends_with(",\"size\":1105},\"Platforms\":null}\n"));
}

TEST_CASE("distribution route: exists from API 1.30 (400 below, as current moby)",
          "[api][distribution]") {
  FakeInspect fake{list_info()};
  auto old = get(fake, "busybox", ApiVersion{1, 29});
  CHECK(old.status == 400);
  CHECK(old.body ==
        "{\"message\":\"GET /distribution/{name:.*}/json requires minimum API version 1.30\"}\n");
  CHECK_FALSE(fake.asked);
  CHECK(get(fake, "busybox", ApiVersion{1, 30}).status == 200);
}

TEST_CASE("distribution route: the route is registered for names with slashes and ports",
          "[api][distribution]") {
  FakeInspect fake{list_info()};
  Router router;
  register_distribution_routes(router, fake.fn());
  auto match = router.match(Method::Get, "/distribution/127.0.0.1:5000/team/app:1/json");
  REQUIRE(match);
  CHECK(match->params.at("name") == "127.0.0.1:5000/team/app:1");
}

TEST_CASE("distribution route: names dockerd refuses before asking a registry",
          "[api][distribution]") {
  FakeInspect fake{list_info()};
  SECTION("upper case: 400") {
    auto w = get(fake, "Busybox");
    CHECK(w.status == 400);
    CHECK(w.body ==
          "{\"message\":\"invalid reference format: repository name (library/Busybox) "
          "must be lowercase\"}\n");
  }
  SECTION("a malformed tag: 400") {
    auto w = get(fake, "busybox:@");
    CHECK(w.status == 400);
    CHECK(w.body == "{\"message\":\"invalid reference format\"}\n");
  }
  SECTION("a full image ID, bare or as a digest: 500") {
    const std::string id = std::string(kDigest.hex());
    for (const std::string& name : {id, kDigest.str()}) {
      auto w = get(fake, name);
      CHECK(w.status == 500);
      CHECK(w.body == "{\"message\":\"no manifest found for full image ID\"}\n");
    }
  }
  CHECK_FALSE(fake.asked);
}

TEST_CASE("distribution route: registry errors get dockerd's statuses", "[api][distribution]") {
  const std::pair<Errc, int> cases[] = {
      {Errc::NotFound, 404},         {Errc::Unauthenticated, 401},    {Errc::PermissionDenied, 403},
      {Errc::InvalidArgument, 400},  {Errc::ResourceExhausted, 429},  {Errc::Unavailable, 500},
      {Errc::DeadlineExceeded, 500}, {Errc::FailedPrecondition, 500}, {Errc::Internal, 500}};
  for (auto [code, status] : cases) {
    FakeInspect fake{fail(code, "manifest unknown: manifest unknown")};
    auto w = get(fake, "busybox:nosuch");
    INFO(errc_name(code));
    CHECK(w.status == status);
    CHECK(w.body == "{\"message\":\"manifest unknown: manifest unknown\"}\n");
  }
}

TEST_CASE("distribution route: X-Registry-Auth is decoded and passed on", "[api][distribution]") {
  FakeInspect fake{list_info()};
  remotes::AuthConfig auth{.username = "bob", .password = "pw"};
  CHECK(
      get(fake, "127.0.0.1:5000/x:y", kMaxApiVersion, remotes::encode_registry_auth(auth)).status ==
      200);
  CHECK(fake.auth == auth);
  CHECK(fake.asked->str() == "127.0.0.1:5000/x:y");
  // Undecodable: anonymous, as dockerd ignores it.
  CHECK(get(fake, "busybox", kMaxApiVersion, "!!!").status == 200);
  CHECK(fake.auth.empty());
}
