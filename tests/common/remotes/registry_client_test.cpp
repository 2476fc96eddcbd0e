// RegistryClient against a real registry (Debian's docker-registry) and, for the failures a real
// registry won't produce, the fault proxy in front of it (tests/harness/README.md).
#include "common/remotes/registry_client.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/oci.h"
#include "common/reference.h"
#include "tests/support/process.h"
#include "tests/support/registry.h"

using imaged::Digest;
using imaged::Errc;
using imaged::Reference;
using imaged::Result;
using imaged::Sha256;
using imaged::Status;
using namespace imaged::remotes;
using namespace imaged::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace oci = imaged::oci;

namespace {

// Small delays and a short stall timeout keep every test within seconds.
RegistryClientOptions fast_options() {
  RegistryClientOptions o;
  o.retry.base_delay = 50ms;
  o.retry.max_delay = 500ms;
  o.retry.max_attempts = 4;
  o.retry.max_retry_after = 5s;
  o.transport.stall_timeout = 1500ms;
  o.transport.connect_timeout = 3s;
  o.small_request_timeout = 10s;
  return o;
}

Reference parse_ref(const std::string& text) {
  auto r = Reference::parse(text);
  REQUIRE(r);
  return *r;
}

json seed_image(const std::string& summary) { return json::parse(summary).at("images").at(0); }

oci::Descriptor layer_of(const json& image, size_t i = 0) {
  const json& l = image.at("layers").at(i);
  return oci::Descriptor{.media_type = l.at("media_type"),
                         .digest = *Digest::parse(l.at("digest").get<std::string>()),
                         .size = l.at("size").get<int64_t>()};
}

oci::Descriptor config_of(const json& image) {
  return oci::Descriptor{.media_type = std::string(oci::kDockerConfig),
                         .digest = *Digest::parse(image.at("config_digest").get<std::string>()),
                         .size = image.at("config_size").get<int64_t>()};
}

// Fetches a whole blob into memory (from `offset`, with the bytes before it given).
struct Fetched {
  Result<FetchResult> result;
  std::string bytes;
};
Fetched fetch_all(RegistryClient& client, const Reference& repo, const oci::Descriptor& d,
                  const CallContext& ctx = {}, int64_t offset = 0, std::string prefix = {},
                  bool with_restart = true) {
  Fetched f;
  f.bytes = std::move(prefix);
  auto sink = [&](std::span<const std::byte> b) -> Status {
    f.bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
    return {};
  };
  RestartFn restart;
  if (with_restart)
    restart = [&]() -> Status {
      f.bytes.clear();
      return {};
    };
  f.result = client.fetch_blob(repo, d, offset, sink, restart, ctx);
  return f;
}

json stats(const FaultProxy& proxy) { return json::parse(proxy.stats()); }

int64_t blob_bytes_served(const FaultProxy& proxy, const Digest& d) {
  auto s = stats(proxy);
  return s.at("blob_bytes").value(d.str(), int64_t{0});
}

// The byte range requests the proxy saw for a blob.
std::vector<std::string> ranges_seen(const FaultProxy& proxy, const Digest& d) {
  std::vector<std::string> out;
  json s = stats(proxy);  // (a temporary's member would dangle in the range-for)
  for (const auto& e : s.at("log"))
    if (e.at("path").get<std::string>().find(d.str()) != std::string::npos &&
        e.at("method") == "GET")
      out.push_back(e.at("range").is_string() ? e.at("range").get<std::string>() : "");
  return out;
}

}  // namespace

TEST_CASE("registry client: resolve and fetch the seed image", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  Reference r = parse_ref(registry.host() + "/library/busybox:musl");

  auto resolved = client.resolve(r);
  REQUIRE(resolved);
  CHECK(resolved->descriptor.digest.str() == image.at("manifest_digest"));
  CHECK(resolved->descriptor.media_type == oci::kDockerManifest);
  CHECK(resolved->descriptor.size == image.at("manifest_size"));
  CHECK(resolved->endpoint == "http://" + registry.host());  // https failed, http answered
  CHECK_FALSE(resolved->mirror);

  auto bytes = client.fetch_manifest(r, resolved->descriptor);
  REQUIRE(bytes);
  auto manifest = oci::parse_manifest(*bytes, resolved->descriptor.media_type);
  REQUIRE(manifest);
  CHECK(oci::check_image_manifest(*manifest));
  CHECK(manifest->config.digest.str() == image.at("config_digest"));

  auto config = fetch_all(client, r, manifest->config);
  REQUIRE(config.result);
  CHECK(Digest::of(config.bytes) == manifest->config.digest);
  auto cfg = oci::parse_image_config(config.bytes);
  REQUIRE(cfg);
  CHECK(cfg->diff_ids.at(0).str() == image.at("diff_ids").at(0));

  auto layer = fetch_all(client, r, manifest->layers.at(0));
  REQUIRE(layer.result);
  CHECK(layer.result->bytes_written == manifest->layers[0].size);
  CHECK(layer.result->end_offset == manifest->layers[0].size);
  CHECK(layer.result->retries == 0);
  CHECK(Digest::of(layer.bytes) == manifest->layers[0].digest);

  // By digest too.
  auto by_digest = client.resolve(r.with_digest(resolved->descriptor.digest));
  REQUIRE(by_digest);
  CHECK(by_digest->descriptor.digest == resolved->descriptor.digest);
}

TEST_CASE("registry client: OCI and zstd images", "[remotes][registry]") {
  TestRegistry registry;
  push_fixture(registry, "oci");
  json zimage = seed_image(push_fixture(registry, "zstd"));
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  auto oci_resolved = client.resolve(parse_ref(registry.host() + "/library/busybox:oci"));
  REQUIRE(oci_resolved);
  CHECK(oci_resolved->descriptor.media_type == oci::kOciManifest);
  Reference z = parse_ref(registry.host() + "/library/busybox:zstd");
  auto zr = client.resolve(z);
  REQUIRE(zr);
  auto m =
      oci::parse_manifest(*client.fetch_manifest(z, zr->descriptor), zr->descriptor.media_type);
  REQUIRE(m);
  CHECK(oci::layer_compression(m->layers.at(0).media_type) == oci::Compression::Zstd);
  auto layer = fetch_all(client, z, m->layers[0]);
  REQUIRE(layer.result);
  CHECK(Digest::of(layer.bytes).str() == zimage.at("layer_digests").at(0));
}

TEST_CASE("registry client: multi-arch index picks the platform", "[remotes][registry]") {
  TestRegistry registry;
  json summary = json::parse(push_fixture(registry, "multiarch"));
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  for (const auto& index_image : summary.at("images")) {
    Reference r = parse_ref(index_image.at("reference").get<std::string>());
    auto resolved = client.resolve(r);
    REQUIRE(resolved);
    CHECK(oci::is_index_media_type(resolved->descriptor.media_type));
    CHECK(resolved->descriptor.digest.str() == index_image.at("manifest_digest"));
    auto bytes = client.fetch_manifest(r, resolved->descriptor);
    REQUIRE(bytes);
    auto index = oci::parse_index(*bytes, resolved->descriptor.media_type);
    REQUIRE(index);
    for (const auto& child : index_image.at("manifests")) {
      oci::Platform p{child.at("platform").at("os"),
                      child.at("platform").at("architecture"),
                      child.at("platform").value("variant", ""),
                      "",
                      {}};
      auto picked = oci::select_manifest(*index, oci::PlatformMatcher(p));
      REQUIRE(picked);
      CHECK(picked->digest.str() == child.at("manifest_digest"));
      auto child_bytes = client.fetch_manifest(r, *picked);
      REQUIRE(child_bytes);
      CHECK(oci::parse_manifest(*child_bytes, picked->media_type));
    }
    auto none_for =
        oci::select_manifest(*index, oci::PlatformMatcher(*oci::Platform::parse("linux/s390x")));
    REQUIRE_FALSE(none_for);
    CHECK_THAT(none_for.error().message, Catch::Contains("linux/arm64/v8"));
  }
}

TEST_CASE("registry client: missing tag and repository give dockerd's messages",
          "[remotes][registry]") {
  TestRegistry registry;
  push_fixture(registry, "seed");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  auto tag = client.resolve(parse_ref(registry.host() + "/library/busybox:nosuchtag"));
  REQUIRE_FALSE(tag);
  CHECK(tag.error().code == Errc::NotFound);
  CHECK(tag.error().message ==
        "manifest for " + registry.host() +
            "/library/busybox:nosuchtag not found: manifest unknown: manifest unknown");
  auto repo = client.resolve(parse_ref(registry.host() + "/nosuch/repo:latest"));
  REQUIRE_FALSE(repo);
  CHECK(repo.error().code == Errc::NotFound);
  // distribution 2.8 answers MANIFEST_UNKNOWN for an unknown repository too (others say
  // NAME_UNKNOWN: "repository <name> not found: name unknown: ...").
  CHECK(repo.error().message ==
        "manifest for " + registry.host() +
            "/nosuch/repo:latest not found: manifest unknown: manifest unknown");
  // A blob the registry does not have.
  oci::Descriptor missing{
      .media_type = std::string(oci::kDockerLayerGzip), .digest = Digest::of("nope"), .size = 4};
  auto blob = fetch_all(client, parse_ref(registry.host() + "/library/busybox"), missing);
  REQUIRE_FALSE(blob.result);
  CHECK(blob.result.error().code == Errc::NotFound);
}

TEST_CASE("registry client: unreachable registry reads like dockerd's", "[remotes][registry]") {
  int port = free_port();
  std::string host = "127.0.0.1:" + std::to_string(port);
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  auto login = client.check_login(host, AuthConfig{.username = "foo", .password = "bar"});
  REQUIRE_FALSE(login);
  CHECK(login.error().code == Errc::Unavailable);
  CHECK(login.error().message ==
        "Get \"http://" + host + "/v2/\": dial tcp " + host + ": connect: connection refused");
  auto resolved = client.resolve(parse_ref(host + "/library/busybox:musl"));
  REQUIRE_FALSE(resolved);
  CHECK(resolved.error().code == Errc::Unavailable);
  CHECK_THAT(resolved.error().message, Catch::Contains("connection refused"));
}

TEST_CASE("registry client: basic auth (htpasswd)", "[remotes][registry]") {
  TestRegistry registry({.user = "bob", .password = "s3cret"});
  json image = seed_image(push_fixture(registry, "seed"));
  Reference r = parse_ref(registry.host() + "/library/busybox:musl");

  SECTION("credentials from the call") {
    NoCredentials none;
    RegistryClient client(fast_options(), none);
    CallContext ctx{.auth = AuthConfig{.username = "bob", .password = "s3cret"}};
    auto resolved = client.resolve(r, ctx);
    REQUIRE(resolved);
    auto layer = fetch_all(client, r, layer_of(image), ctx);
    REQUIRE(layer.result);
    CHECK(Digest::of(layer.bytes) == layer_of(image).digest);
    auto login =
        client.check_login(registry.host(), AuthConfig{.username = "bob", .password = "s3cret"});
    REQUIRE(login);
    CHECK(login->status == "Login Succeeded");
  }
  SECTION("credentials from the source; an empty X-Registry-Auth falls back to it") {
    StaticCredentials creds;
    creds.set(registry.host(), AuthConfig{.username = "bob", .password = "s3cret"});
    RegistryClient client(fast_options(), creds);
    CHECK(client.resolve(r, CallContext{.auth = decode_registry_auth("e30=")}));
  }
  SECTION("no credentials") {
    NoCredentials none;
    RegistryClient client(fast_options(), none);
    auto resolved = client.resolve(r);
    REQUIRE_FALSE(resolved);
    CHECK(resolved.error().code == Errc::Unauthenticated);
    CHECK_THAT(resolved.error().message, Catch::Contains("no basic auth credentials"));
  }
  SECTION("wrong password") {
    NoCredentials none;
    RegistryClient client(fast_options(), none);
    CallContext ctx{.auth = AuthConfig{.username = "bob", .password = "wrong"}};
    auto resolved = client.resolve(r, ctx);
    REQUIRE_FALSE(resolved);
    CHECK(resolved.error().code == Errc::Unauthenticated);
    CHECK_THAT(resolved.error().message, Catch::Contains("unauthorized: "));
    CHECK_THAT(resolved.error().message, !Catch::Contains("wrong"));
    auto login =
        client.check_login(registry.host(), AuthConfig{.username = "bob", .password = "wrong"});
    REQUIRE_FALSE(login);
    CHECK(login.error().code == Errc::Unauthenticated);
    CHECK_THAT(login.error().message, Catch::Contains("unauthorized: authentication required"));
  }
}

TEST_CASE("registry client: bearer token flow through the proxy", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry, {"--bearer", "--token-user", "bob:pw"});
  Reference r = parse_ref(proxy.host() + "/library/busybox:musl");
  NoCredentials none;
  RegistryClient client(fast_options(), none);

  CallContext ctx{.auth = AuthConfig{.username = "bob", .password = "pw"}};
  auto resolved = client.resolve(r, ctx);
  REQUIRE(resolved);
  CHECK(resolved->descriptor.digest.str() == image.at("manifest_digest"));
  auto bytes = client.fetch_manifest(r, resolved->descriptor, ctx);
  REQUIRE(bytes);
  auto layer = fetch_all(client, r, layer_of(image), ctx);
  REQUIRE(layer.result);
  CHECK(Digest::of(layer.bytes) == layer_of(image).digest);

  auto s = stats(proxy);
  // One token for the repository's pull scope, reused for every request.
  int granted = 0;
  for (const auto& t : s.at("token_requests")) {
    CHECK(t.at("user") == "bob");
    if (t.at("granted") == true) ++granted;
  }
  CHECK(granted == 1);
  for (const auto& e : s.at("log"))
    if (e.at("path").get<std::string>().starts_with("/v2/") && e.at("status") != 401)
      CHECK(e.at("authorization") == "bearer");

  SECTION("wrong credentials at the token server") {
    CallContext bad{.auth = AuthConfig{.username = "bob", .password = "nope"}};
    auto denied = client.resolve(r, bad);
    REQUIRE_FALSE(denied);
    CHECK(denied.error().code == Errc::Unauthenticated);
    CHECK_THAT(denied.error().message, Catch::Contains("unauthorized"));
  }
  SECTION("login") {
    CHECK(client.check_login(proxy.host(), AuthConfig{.username = "bob", .password = "pw"}));
    auto bad = client.check_login(proxy.host(), AuthConfig{.username = "bob", .password = "nope"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::Unauthenticated);
  }
}

TEST_CASE("registry client: 429 with Retry-After is waited out", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  proxy.configure(R"({"faults": [{"mode": "rate429", "count": 2, "retry_after": 1}]})");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  std::vector<RetryNotice> notices;
  CallContext ctx{.on_retry = [&](const RetryNotice& n) { notices.push_back(n); }};
  auto start = std::chrono::steady_clock::now();
  auto resolved = client.resolve(parse_ref(proxy.host() + "/library/busybox:musl"), ctx);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(resolved);
  CHECK(resolved->descriptor.digest.str() == image.at("manifest_digest"));
  REQUIRE(notices.size() == 2);
  CHECK_THAT(notices[0].reason, Catch::Contains("429 Too Many Requests"));
  CHECK_THAT(notices[0].reason, Catch::Contains("Retry-After 1s"));
  CHECK(notices[0].delay == 1000ms);
  CHECK(took >= 2s);
  CHECK(took < 10s);

  SECTION("too long a Retry-After fails fast") {
    proxy.configure(R"({"faults": [{"mode": "rate429", "count": -1, "retry_after": 3600}]})");
    auto t0 = std::chrono::steady_clock::now();
    auto limited = client.resolve(parse_ref(proxy.host() + "/library/busybox:musl"));
    REQUIRE_FALSE(limited);
    CHECK(limited.error().code == Errc::ResourceExhausted);
    CHECK_THAT(limited.error().message, Catch::Contains("toomanyrequests"));
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  }
}

TEST_CASE("registry client: 5xx is retried with backoff", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  proxy.configure(
      R"({"faults": [{"mode": "err5xx", "status": 503, "count": 2, "match": "/blobs/"}]})");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  auto layer = fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), layer_of(image));
  REQUIRE(layer.result);
  CHECK(layer.result->retries == 2);
  CHECK(Digest::of(layer.bytes) == layer_of(image).digest);

  proxy.configure(
      R"({"faults": [{"mode": "err5xx", "status": 503, "count": -1, "match": "/blobs/"}]})");
  auto failed = fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), layer_of(image));
  REQUIRE_FALSE(failed.result);
  CHECK(failed.result.error().code == Errc::Unavailable);
  CHECK_THAT(failed.result.error().message, Catch::Contains("giving up after 4 attempts"));
}

TEST_CASE("registry client: a stalled blob resumes with Range", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  proxy.configure(R"({"faults": [{"mode": "stall", "after_bytes": 300000, "seconds": 8}]})");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  oci::Descriptor d = layer_of(image);
  std::vector<RetryNotice> notices;
  CallContext ctx{.on_retry = [&](const RetryNotice& n) { notices.push_back(n); }};
  auto start = std::chrono::steady_clock::now();
  auto layer = fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), d, ctx);
  REQUIRE(layer.result);
  CHECK(std::chrono::steady_clock::now() - start < 6s);
  CHECK(Digest::of(layer.bytes) == d.digest);
  CHECK(layer.result->retries == 1);
  CHECK(layer.result->restarts == 0);
  REQUIRE(notices.size() == 1);
  CHECK_THAT(notices[0].reason, Catch::Contains("stalled"));
  // The stalled request is still hanging on the proxy (it is logged when it ends); the second
  // one asked for the rest only.
  auto ranges = ranges_seen(proxy, d.digest);
  REQUIRE(ranges.size() >= 1);
  CHECK(ranges.back().rfind("bytes=", 0) == 0);
  CHECK(ranges.back() != "bytes=0-");
  CHECK(blob_bytes_served(proxy, d.digest) < 2 * d.size);
}

TEST_CASE("registry client: a dropped or truncated blob resumes with Range",
          "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  oci::Descriptor d = layer_of(image);
  for (std::string mode : {"drop", "truncate"}) {
    INFO(mode);
    proxy.configure(R"({"faults": [{"mode": ")" + mode + R"(", "after_bytes": 400000}]})");
    proxy.reset();
    auto layer = fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), d);
    REQUIRE(layer.result);
    CHECK(Digest::of(layer.bytes) == d.digest);
    CHECK(layer.result->retries == 1);
    auto ranges = ranges_seen(proxy, d.digest);
    REQUIRE(ranges.size() == 2);
    CHECK(ranges[1].rfind("bytes=", 0) == 0);
    CHECK(blob_bytes_served(proxy, d.digest) < 2 * d.size);
  }
}

TEST_CASE("registry client: a server that ignores Range restarts from zero",
          "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  proxy.configure(R"({"faults": [{"mode": "ignore_range"}]})");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  oci::Descriptor d = layer_of(image);
  Reference repo = parse_ref(proxy.host() + "/library/busybox");
  // The whole blob, to know its first bytes.
  auto whole = fetch_all(client, repo, d);
  REQUIRE(whole.result);

  SECTION("with a restart callback: restart from 0") {
    auto resumed = fetch_all(client, repo, d, {}, 1000, whole.bytes.substr(0, 1000));
    REQUIRE(resumed.result);
    CHECK(resumed.result->restarts == 1);
    CHECK(resumed.result->bytes_written == d.size);
    CHECK(Digest::of(resumed.bytes) == d.digest);
  }
  SECTION("without one: the first bytes are skipped") {
    auto resumed =
        fetch_all(client, repo, d, {}, 1000, whole.bytes.substr(0, 1000), /*with_restart=*/false);
    REQUIRE(resumed.result);
    CHECK(resumed.result->restarts == 0);
    CHECK(resumed.result->bytes_written == d.size - 1000);
    CHECK(Digest::of(resumed.bytes) == d.digest);
  }
}

TEST_CASE("registry client: tampered bytes are caught", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  Reference r = parse_ref(proxy.host() + "/library/busybox:musl");
  auto resolved = client.resolve(r);
  REQUIRE(resolved);

  proxy.configure(
      R"({"faults": [{"mode": "tamper", "match": "/manifests/sha256:", "count": -1}]})");
  auto manifest = client.fetch_manifest(r, resolved->descriptor);
  REQUIRE_FALSE(manifest);
  CHECK(manifest.error().code == Errc::FailedPrecondition);
  CHECK_THAT(manifest.error().message, Catch::Contains("digest mismatch"));

  // Blobs: fetch_blob hands over the bytes; the caller's digest check catches it.
  proxy.configure(R"({"faults": [{"mode": "tamper"}]})");
  auto layer = fetch_all(client, r, layer_of(image));
  REQUIRE(layer.result);
  CHECK(Digest::of(layer.bytes) != layer_of(image).digest);
}

TEST_CASE("registry client: blob redirects never carry Authorization", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry, {"--bearer", "--token-user", "bob:pw"});
  proxy.configure(R"({"faults": [{"mode": "redirect_blobs"}]})");
  NoCredentials none;
  RegistryClient client(fast_options(), none);
  CallContext ctx{.auth = AuthConfig{.username = "bob", .password = "pw"}};
  auto layer =
      fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), layer_of(image), ctx);
  REQUIRE(layer.result);
  CHECK(Digest::of(layer.bytes) == layer_of(image).digest);
  auto s = stats(proxy);
  REQUIRE(s.at("redirects").size() >= 1);
  for (const auto& hit : s.at("redirects")) CHECK(hit.at("authorization") == false);
  // The registry itself did get the token.
  bool bearer_to_registry = false;
  for (const auto& e : s.at("log"))
    if (e.at("authorization") == "bearer") bearer_to_registry = true;
  CHECK(bearer_to_registry);
}

TEST_CASE("registry client: mirrors first, fallback upstream or never", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  std::string dead = "127.0.0.1:" + std::to_string(free_port());
  NoCredentials none;

  SECTION("a mirror serves a registry that is down") {
    auto opts = fast_options();
    opts.hosts.mirrors[dead] = MirrorConfig{{registry.url()}, MirrorFallback::Never};
    RegistryClient client(opts, none);
    Reference r = parse_ref(dead + "/library/busybox:musl");
    auto resolved = client.resolve(r);
    REQUIRE(resolved);
    CHECK(resolved->mirror);
    CHECK(resolved->endpoint == registry.url());
    auto layer = fetch_all(client, r, layer_of(image));
    REQUIRE(layer.result);
    CHECK(layer.result->endpoint == registry.url());
  }
  SECTION("a dead mirror falls back to the registry") {
    auto opts = fast_options();
    opts.hosts.mirrors[registry.host()] =
        MirrorConfig{{"http://" + dead}, MirrorFallback::Upstream};
    RegistryClient client(opts, none);
    Reference r = parse_ref(registry.host() + "/library/busybox:musl");
    auto resolved = client.resolve(r);
    REQUIRE(resolved);
    CHECK_FALSE(resolved->mirror);
    auto layer = fetch_all(client, r, layer_of(image));
    REQUIRE(layer.result);
    CHECK(Digest::of(layer.bytes) == layer_of(image).digest);
  }
  SECTION("fallback never with a dead mirror fails") {
    auto opts = fast_options();
    opts.hosts.mirrors[registry.host()] = MirrorConfig{{"http://" + dead}, MirrorFallback::Never};
    RegistryClient client(opts, none);
    auto resolved = client.resolve(parse_ref(registry.host() + "/library/busybox:musl"));
    REQUIRE_FALSE(resolved);
    CHECK(resolved.error().code == Errc::Unavailable);
    CHECK_THAT(resolved.error().message, Catch::Contains(dead));
  }
}

TEST_CASE("registry client: cancellation stops a stalled fetch promptly", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  FaultProxy proxy(registry);
  proxy.configure(R"({"faults": [{"mode": "stall", "after_bytes": 1000, "seconds": 20}]})");
  auto opts = fast_options();
  opts.transport.stall_timeout = 30s;
  NoCredentials none;
  RegistryClient client(opts, none);
  std::stop_source stop;
  std::jthread canceler([&] {
    std::this_thread::sleep_for(300ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto layer = fetch_all(client, parse_ref(proxy.host() + "/library/busybox"), layer_of(image),
                         CallContext{.stop = stop.get_token()});
  REQUIRE_FALSE(layer.result);
  CHECK(layer.result.error().code == Errc::Canceled);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  proxy.reset();  // ends the stall on the proxy side
}

TEST_CASE("registry client: push blobs and manifests, mount, catalog", "[remotes][registry]") {
  TestRegistry registry;
  json image = seed_image(push_fixture(registry, "seed"));
  auto opts = fast_options();
  opts.monolithic_upload_limit = 64 * 1024;  // the layer goes in chunks, the config in one PUT
  opts.upload_chunk_size = 256 * 1024;
  NoCredentials none;
  RegistryClient client(opts, none);
  Reference src = parse_ref(registry.host() + "/library/busybox:musl");
  auto resolved = client.resolve(src);
  REQUIRE(resolved);
  std::string manifest_bytes = *client.fetch_manifest(src, resolved->descriptor);
  oci::Descriptor config = config_of(image), layer = layer_of(image);
  std::string config_bytes = fetch_all(client, src, config).bytes;
  std::string layer_bytes = fetch_all(client, src, layer).bytes;
  auto reader_of = [](const std::string& bytes) {
    return [&bytes](int64_t off, std::span<std::byte> buf) -> Result<size_t> {
      size_t n = std::min(buf.size(), bytes.size() - static_cast<size_t>(off));
      std::memcpy(buf.data(), bytes.data() + off, n);
      return n;
    };
  };

  SECTION("upload (chunked and monolithic), then the manifest") {
    Reference dst = parse_ref(registry.host() + "/team/copy:media");
    CHECK(client.blob_exists(dst, layer.digest) == false);
    int64_t last_progress = -1;
    REQUIRE(client.upload_blob(dst, layer, reader_of(layer_bytes),
                               [&](int64_t n) { last_progress = n; }));
    CHECK(last_progress == layer.size);
    REQUIRE(client.upload_blob(dst, config, reader_of(config_bytes)));
    CHECK(client.blob_exists(dst, layer.digest) == true);
    CHECK(client.blob_exists(dst, config.digest) == true);
    auto pushed = client.put_manifest(dst, "media", oci::kDockerManifest, manifest_bytes);
    REQUIRE(pushed);
    CHECK(*pushed == resolved->descriptor.digest);
    auto again = client.resolve(dst);
    REQUIRE(again);
    CHECK(again->descriptor.digest == resolved->descriptor.digest);
  }
  SECTION("mount from another repository") {
    Reference dst = parse_ref(registry.host() + "/team/mounted:x");
    CHECK(client.mount_blob(dst, layer.digest, "library/busybox") == true);
    CHECK(client.blob_exists(dst, layer.digest) == true);
    CHECK(client.mount_blob(dst, Digest::of("absent"), "library/busybox") == false);
  }
  SECTION("a chunked upload resumes after a dropped PATCH") {
    FaultProxy proxy(registry);
    proxy.configure(
        R"({"faults": [{"mode": "err5xx", "status": 502, "match": "/blobs/uploads/", "methods": ["PATCH"], "skip": 2}]})");
    Reference dst = parse_ref(proxy.host() + "/team/resumed:x");
    std::vector<RetryNotice> notices;
    CallContext ctx{.on_retry = [&](const RetryNotice& n) { notices.push_back(n); }};
    REQUIRE(client.upload_blob(dst, layer, reader_of(layer_bytes), {}, ctx));
    CHECK(notices.size() == 1);
    CHECK(client.blob_exists(dst, layer.digest) == true);
    int patches = 0;
    json s = stats(proxy);
    for (const auto& e : s.at("log"))
      if (e.at("method") == "PATCH") ++patches;
    // 4 chunks of 256 KiB for a ~1 MiB layer, one of them sent twice.
    CHECK(patches == (layer.size + opts.upload_chunk_size - 1) / opts.upload_chunk_size + 1);
  }
  SECTION("wrong digest is refused by the registry") {
    Reference dst = parse_ref(registry.host() + "/team/bad:x");
    oci::Descriptor lie = config;
    lie.digest = Digest::of("something else");
    auto st = client.upload_blob(dst, lie, reader_of(config_bytes));
    REQUIRE_FALSE(st);
    CHECK(st.error().code == Errc::InvalidArgument);
    CHECK_THAT(st.error().message, Catch::Contains("digest invalid"));
  }
  SECTION("catalog") {
    auto names = client.catalog(registry.host());
    REQUIRE(names);
    CHECK(std::find(names->begin(), names->end(), "library/busybox") != names->end());
  }
}
