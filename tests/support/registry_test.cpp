// The harness itself: the real registry, the fixtures and the fault proxy behave as documented in
// tests/harness/README.md. Everything talks to 127.0.0.1 only.
#include "tests/support/registry.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/digest.h"

using namespace imaged::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";

// curl with a deadline; returns stdout (what -w/-o chose to print).
std::string curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run(argv, 15s);
  return r.out;
}

// The identity of every image in a mkimage.py summary, without the registry address.
std::vector<std::string> identities(const json& summary) {
  std::vector<std::string> out;
  for (const auto& image : summary.at("images")) {
    out.push_back(image.at("tag").get<std::string>() + " " +
                  image.at("manifest_digest").get<std::string>());
    if (image.contains("config_digest")) out.push_back(image.at("config_digest"));
    if (image.contains("layer_digests"))
      for (const auto& d : image.at("layer_digests")) out.push_back(d);
    if (image.contains("manifests"))
      for (const auto& m : image.at("manifests")) out.push_back(m.at("manifest_digest"));
  }
  return out;
}

std::string seed_layer(const json& summary) {
  return summary.at("images").at(0).at("layer_digests").at(0);
}

}  // namespace

TEST_CASE("harness: the registry starts on loopback and answers /v2/", "[harness]") {
  TestRegistry registry;
  CHECK(registry.host().rfind("127.0.0.1:", 0) == 0);
  auto reply = http_request(registry.host(), "GET", "/v2/");
  CHECK(reply.status == 200);
  CHECK(reply.headers["docker-distribution-api-version"] == "registry/2.0");
}

TEST_CASE("harness: the seed fixture's manifest digest matches what the registry serves",
          "[harness]") {
  TestRegistry registry;
  auto summary = json::parse(push_fixture(registry, "seed"));
  const auto& image = summary.at("images").at(0);
  CHECK(image.at("repo") == "library/busybox");
  CHECK(image.at("tag") == "musl");
  CHECK(image.at("media_type") == kDockerManifest);
  CHECK(image.at("image_id") == image.at("config_digest"));
  CHECK(image.at("diff_ids").size() == 1);

  auto manifest = http_request(registry.host(), "GET", "/v2/library/busybox/manifests/musl", {},
                               {{"Accept", kDockerManifest}});
  REQUIRE(manifest.status == 200);
  CHECK(imaged::Digest::of(manifest.body).str() == image.at("manifest_digest"));
  CHECK(manifest.headers["docker-content-digest"] == image.at("manifest_digest"));

  auto config =
      http_request(registry.host(), "GET",
                   "/v2/library/busybox/blobs/" + image.at("config_digest").get<std::string>());
  REQUIRE(config.status == 200);
  CHECK(imaged::Digest::of(config.body).str() == image.at("config_digest"));
  auto doc = json::parse(config.body);
  CHECK(doc.at("rootfs").at("diff_ids") == image.at("diff_ids"));
  CHECK(doc.at("config").at("Cmd") == json::array({"sh"}));
}

TEST_CASE("harness: fixtures are byte-for-byte deterministic", "[harness]") {
  TestRegistry first, second;
  auto a = json::parse(push_fixture(first, "all"));
  auto b = json::parse(push_fixture(second, "all"));
  CHECK(identities(a) == identities(b));
  // Pushing again into the same registry changes nothing either.
  auto again = json::parse(push_fixture(first, "seed"));
  CHECK(identities(again).front() == identities(a).front());
  // The sets share one busybox layer; the amd64 entry of the docker list is the seed manifest.
  const auto& images = a.at("images");
  CHECK(images.at(0).at("layer_digests") == images.at(1).at("layer_digests"));
  CHECK(images.at(4).at("manifests").at(0).at("manifest_digest") ==
        images.at(0).at("manifest_digest"));
}

TEST_CASE("harness: an htpasswd registry rejects anonymous clients and accepts the user",
          "[harness]") {
  TestRegistry registry({.user = "alice", .password = "s3cret"});
  CHECK(registry.credentials() == "alice:s3cret");
  auto anonymous = http_request(registry.host(), "GET", "/v2/");
  CHECK(anonymous.status == 401);
  CHECK(anonymous.headers["www-authenticate"].rfind("Basic ", 0) == 0);
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:s3cret",
              registry.url() + "/v2/"}) == "200");
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "-u", "alice:wrong",
              registry.url() + "/v2/"}) == "401");
  auto summary = json::parse(push_fixture(registry, "seed"));  // mkimage.py sends --user
  CHECK(summary.at("images").at(0).at("tag") == "musl");
}

TEST_CASE("harness: the proxy's bearer mode challenges, issues tokens and checks them",
          "[harness]") {
  TestRegistry registry;
  push_fixture(registry, "seed");
  FaultProxy proxy(registry, {"--bearer", "--token-user", "bob:pw"});
  auto manifest_url = proxy.url() + "/v2/library/busybox/manifests/musl";

  auto challenge =
      curl({"-o", "/dev/null", "-w", "%{http_code} %header{www-authenticate}", manifest_url});
  CHECK(challenge == "401 Bearer realm=\"" + proxy.url() +
                         "/token\",service=\"test-registry\","
                         "scope=\"repository:library/busybox:pull\"");

  auto token_url =
      proxy.url() + "/token?service=test-registry&scope=repository:library/busybox:pull";
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", token_url}) == "401");
  auto token = json::parse(curl({"-u", "bob:pw", token_url}));
  CHECK(token.at("token") == token.at("access_token"));
  CHECK(token.at("expires_in") == 300);
  auto bearer = "Authorization: Bearer " + token.at("token").get<std::string>();

  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", bearer, "-H",
              std::string("Accept: ") + kDockerManifest, manifest_url}) == "200");
  // The token is scoped: another repository is still refused.
  CHECK(curl({"-o", "/dev/null", "-w", "%{http_code}", "-H", bearer,
              proxy.url() + "/v2/other/repo/manifests/x"}) == "401");
  auto stats = json::parse(proxy.stats());
  CHECK(stats.at("token_requests").size() == 2);
  CHECK(stats.at("token_requests").at(1).at("granted") == true);
}

TEST_CASE("harness: the proxy answers 429 with Retry-After, K times", "[harness]") {
  TestRegistry registry;
  push_fixture(registry, "seed");
  FaultProxy proxy(registry);
  proxy.configure(R"({"faults": [{"mode": "rate429", "count": 2, "retry_after": 7}]})");
  auto url = proxy.url() + "/v2/library/busybox/manifests/musl";
  auto format = std::vector<std::string>{"-o", "/dev/null",
                                         "-w", "%{http_code} %header{retry-after}",
                                         "-H", std::string("Accept: ") + kDockerManifest,
                                         url};
  CHECK(curl(format) == "429 7");
  CHECK(curl(format) == "429 7");
  CHECK(curl(format) == "200 ");
  auto stats = json::parse(proxy.stats());
  CHECK(stats.at("requests").at("GET /v2/library/busybox/manifests/musl") == 3);
  CHECK(stats.at("faults").at(0).at("fired") == 2);
  proxy.reset();  // re-arms the counter and clears the stats
  CHECK(curl(format) == "429 7");
  CHECK(json::parse(proxy.stats()).at("requests_total") == 1);
}

TEST_CASE("harness: the proxy can ignore Range and answer the whole blob", "[harness]") {
  TestRegistry registry;
  auto summary = json::parse(push_fixture(registry, "seed"));
  auto layer = seed_layer(summary);
  auto size = summary.at("images").at(0).at("layers").at(0).at("size").get<long>();
  FaultProxy proxy(registry);
  auto url = proxy.url() + "/v2/library/busybox/blobs/" + layer;
  auto args = std::vector<std::string>{
      "-r", "100-199", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url};
  CHECK(curl(args) == "206 100");  // passed through by default
  proxy.configure(R"({"faults": [{"mode": "ignore_range"}]})");
  CHECK(curl(args) == "200 " + std::to_string(size));
  auto stats = json::parse(proxy.stats());
  CHECK(stats.at("blob_bytes").at(layer) == size + 100);
  CHECK(stats.at("log").at(1).at("range") == "bytes=100-199");
}

TEST_CASE("harness: the proxy tampers with one byte of a blob, once", "[harness]") {
  TestRegistry registry;
  auto summary = json::parse(push_fixture(registry, "seed"));
  auto layer = seed_layer(summary);
  FaultProxy proxy(registry, {"--mode", "tamper"});
  auto url = proxy.url() + "/v2/library/busybox/blobs/" + layer;
  auto tampered = http_request(proxy.host(), "GET", "/v2/library/busybox/blobs/" + layer);
  REQUIRE(tampered.status == 200);
  CHECK(std::to_string(tampered.body.size()) == tampered.headers["content-length"]);
  CHECK(imaged::Digest::of(tampered.body).str() != layer);
  // The second fetch is clean (count defaults to 1); checked with curl as a client would.
  auto r = run_shell("curl -s --max-time 10 '" + url + "' | sha256sum | cut -d' ' -f1", 15s);
  CHECK("sha256:" + r.out == layer + "\n");
}

TEST_CASE("harness: the proxy cuts connections (drop, truncate) and stalls", "[harness]") {
  TestRegistry registry;
  auto summary = json::parse(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  auto url = proxy.url() + "/v2/library/busybox/blobs/" + seed_layer(summary);
  auto fetch = [&](const std::string& max_time) {
    auto r = run(
        {"curl", "-s", "--max-time", max_time, "-o", "/dev/null", "-w", "%{size_download}", url},
        15s);
    return std::to_string(r.exit_code) + " " + r.out;
  };
  proxy.configure(R"({"faults": [{"mode": "drop", "after_bytes": 5000}]})");
  CHECK(fetch("10") == "56 5000");  // CURLE_RECV_ERROR: reset by peer
  proxy.configure(R"({"faults": [{"mode": "truncate", "after_bytes": 7000}]})");
  CHECK(fetch("10") == "18 7000");  // CURLE_PARTIAL_FILE
  proxy.configure(R"({"faults": [{"mode": "stall", "after_bytes": 3000, "seconds": 30}]})");
  CHECK(fetch("1") == "28 3000");  // CURLE_OPERATION_TIMEDOUT while the proxy hangs
  proxy.reset();                   // ends the stall at once
}

TEST_CASE("harness: redirected blob fetches are served and credentials are recorded", "[harness]") {
  TestRegistry registry;
  auto summary = json::parse(push_fixture(registry, "seed"));
  auto layer = seed_layer(summary);
  FaultProxy proxy(registry, {"--mode", "redirect_blobs"});
  auto url = proxy.url() + "/v2/library/busybox/blobs/" + layer;
  auto size = summary.at("images").at(0).at("layers").at(0).at("size").get<long>();
  // curl does not forward a custom Authorization header to another host on redirect.
  CHECK(curl({"-L", "-H", "Authorization: Bearer secret", "-o", "/dev/null", "-w",
              "%{http_code} %{size_download} %{num_redirects}", url}) ==
        "200 " + std::to_string(size) + " 1");
  auto redirects = json::parse(proxy.stats()).at("redirects");
  REQUIRE(redirects.size() == 1);
  CHECK(redirects.at(0).at("authorization") == false);
  CHECK(redirects.at(0).at("host").get<std::string>().rfind("localhost:", 0) == 0);
}
