// remotes::inspect_distribution against a real registry (tests/harness), and the config platform
// reader. Expected values are what dockerd 20.10.24 answered for the same fixtures.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/remotes/distribution_inspect.h"
#include "tests/common/images/pull_env.h"
#include "tests/support/registry.h"

using namespace imaged;
using namespace imaged::remotes;
using nlohmann::json;

namespace {

struct Bench {
  testing::TestRegistry registry;
  NoCredentials none;
  RegistryClient client{testing::PullEnvOptions::fast_client(), none};

  explicit Bench(testing::RegistryOptions options = {}) : registry(std::move(options)) {}

  Result<DistributionInfo> inspect(const std::string& name, const CallContext& ctx = {}) {
    return inspect_distribution(client, Reference::parse(registry.host() + "/" + name).value(),
                                ctx);
  }
};

const oci::Platform kAmd64{"linux", "amd64", "", "", {}};
const oci::Platform kArm64{"linux", "arm64", "v8", "", {}};
const oci::Platform kArmV7{"linux", "arm", "v7", "", {}};

}  // namespace

TEST_CASE("distribution inspect: a Docker manifest reports its config's platform",
          "[remotes][distribution]") {
  Bench b;
  const json img = json::parse(testing::push_fixture(b.registry, "seed"))["images"][0];
  const std::string digest = img["manifest_digest"];
  for (const std::string& name : {std::string("library/busybox:musl"), "library/busybox@" + digest,
                                  "library/busybox:other@" + digest}) {
    INFO(name);
    auto info = b.inspect(name);
    REQUIRE(info);
    CHECK(info->descriptor.media_type == oci::kDockerManifest);
    CHECK(info->descriptor.digest.str() == digest);
    CHECK(info->descriptor.size == img["manifest_size"].get<int64_t>());
    CHECK(info->platforms == std::vector<oci::Platform>{kAmd64});
  }
}

TEST_CASE("distribution inspect: a manifest list and an OCI index list every entry's platform",
          "[remotes][distribution]") {
  Bench b;
  const json images = json::parse(testing::push_fixture(b.registry, "multiarch"))["images"];
  for (const json& img : images) {
    const std::string name = "library/busybox:" + img["tag"].get<std::string>();
    INFO(name);
    auto info = b.inspect(name);
    REQUIRE(info);
    CHECK(info->descriptor.media_type == img["media_type"].get<std::string>());
    CHECK(oci::is_index_media_type(info->descriptor.media_type));
    CHECK(info->descriptor.digest.str() == img["manifest_digest"].get<std::string>());
    CHECK(info->descriptor.size == img["manifest_size"].get<int64_t>());
    CHECK(info->platforms == std::vector<oci::Platform>{kAmd64, kArm64, kArmV7});
  }
}

TEST_CASE("distribution inspect: an OCI image manifest reports no platform, as dockerd",
          "[remotes][distribution]") {
  Bench b;
  const json img = json::parse(testing::push_fixture(b.registry, "oci"))["images"][0];
  auto info = b.inspect("library/busybox:oci");
  REQUIRE(info);
  CHECK(info->descriptor.media_type == oci::kOciManifest);
  CHECK(info->descriptor.digest.str() == img["manifest_digest"].get<std::string>());
  CHECK(info->platforms.empty());
}

TEST_CASE("distribution inspect: registry errors keep the registry's own text",
          "[remotes][distribution]") {
  Bench b;
  testing::push_fixture(b.registry, "seed");
  for (const std::string& name :
       {std::string("library/busybox:nosuch"), std::string("library/nosuch"),
        "library/busybox@sha256:" + std::string(64, '0')}) {
    INFO(name);
    auto info = b.inspect(name);
    REQUIRE_FALSE(info);
    CHECK(info.error().code == Errc::NotFound);
    CHECK(info.error().message == "manifest unknown: manifest unknown");
  }
}

TEST_CASE("distribution inspect: credentials come with the call", "[remotes][distribution]") {
  Bench b({.user = "bob", .password = "pw"});
  testing::push_fixture(b.registry, "seed");
  CallContext right;
  right.auth = AuthConfig{.username = "bob", .password = "pw"};
  auto ok = b.inspect("library/busybox:musl", right);
  REQUIRE(ok);
  CHECK(ok->platforms == std::vector<oci::Platform>{kAmd64});

  CallContext wrong;
  wrong.auth = AuthConfig{.username = "bob", .password = "nope"};
  auto refused = b.inspect("library/busybox:musl", wrong);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == Errc::Unauthenticated);
  CHECK(refused.error().message == "unauthorized: authentication required");

  auto anonymous = b.inspect("library/busybox:musl");
  REQUIRE_FALSE(anonymous);
  CHECK(anonymous.error().code == Errc::Unauthenticated);
}

TEST_CASE("distribution inspect: scratch is a reserved name", "[remotes][distribution]") {
  NoCredentials none;
  RegistryClient client(testing::PullEnvOptions::fast_client(), none);
  auto info = inspect_distribution(client, Reference::parse("scratch").value());
  REQUIRE_FALSE(info);
  CHECK(info.error().code == Errc::InvalidArgument);
  CHECK(info.error().message == "'scratch' is a reserved name");
}

TEST_CASE("distribution inspect: a config's platform is read as Go's json.Unmarshal reads it",
          "[remotes][distribution]") {
  using P = std::optional<oci::Platform>;
  CHECK(platform_of_config(R"({"architecture":"arm","os":"linux","variant":"v7","rootfs":{}})") ==
        P(kArmV7));
  CHECK(
      platform_of_config(
          R"({"Architecture":"amd64","OS":"windows","os.version":"10.0","os.features":["a",null]})") ==
      P(oci::Platform{"windows", "amd64", "", "10.0", {"a", ""}}));
  CHECK(platform_of_config(R"({"architecture":"amd64","os":null})") ==
        P(oci::Platform{"", "amd64", "", "", {}}));
  // Nothing to report.
  CHECK(platform_of_config(R"({"config":{}})") == std::nullopt);
  CHECK(platform_of_config("null") == std::nullopt);
  // Errors: not JSON, not an object, a field of the wrong type.
  CHECK(platform_of_config("{") == std::nullopt);
  CHECK(platform_of_config("[]") == std::nullopt);
  CHECK(platform_of_config(R"({"architecture":"amd64","os":"linux","variant":7})") == std::nullopt);
  CHECK(platform_of_config(R"({"architecture":"amd64","os":"linux","os.features":"x"})") ==
        std::nullopt);
}
