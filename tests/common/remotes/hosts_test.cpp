#include "common/remotes/hosts.h"

#include <catch2/catch.hpp>

using imaged::Errc;
using namespace imaged::remotes;

namespace {
std::vector<std::string> urls(const std::vector<Endpoint>& eps) {
  std::vector<std::string> out;
  for (const auto& e : eps)
    out.push_back(e.base_url() + (e.tls_verify ? "" : " (insecure)") + (e.mirror ? " mirror" : ""));
  return out;
}
}  // namespace

TEST_CASE("remotes: docker.io resolves to registry-1.docker.io", "[remotes]") {
  HostsConfig cfg;
  CHECK(urls(pull_endpoints(cfg, "docker.io")) ==
        std::vector<std::string>{"https://registry-1.docker.io"});
  CHECK(urls(pull_endpoints(cfg, "index.docker.io")) ==
        std::vector<std::string>{"https://registry-1.docker.io"});
  auto eps = pull_endpoints(cfg, "docker.io");
  CHECK(eps[0].registry == "docker.io");
  CHECK(eps[0].url("/v2/library/busybox/manifests/musl") ==
        "https://registry-1.docker.io/v2/library/busybox/manifests/musl");
  CHECK(urls(pull_endpoints(cfg, "ghcr.io")) == std::vector<std::string>{"https://ghcr.io"});
}

TEST_CASE("remotes: registry-mirrors apply to docker.io only, mirrors first", "[remotes]") {
  HostsConfig cfg;
  cfg.registry_mirrors = {"https://mirror.gcr.io", "http://10.1.2.3:5000/"};
  cfg.insecure_registries = {"10.0.0.0/8"};
  CHECK(urls(pull_endpoints(cfg, "docker.io")) ==
        std::vector<std::string>{"https://mirror.gcr.io mirror", "http://10.1.2.3:5000 mirror",
                                 "https://registry-1.docker.io"});
  CHECK(urls(pull_endpoints(cfg, "quay.io")) == std::vector<std::string>{"https://quay.io"});
  // Pushes and logins never use mirrors.
  CHECK(urls(upstream_endpoints(cfg, "docker.io")) ==
        std::vector<std::string>{"https://registry-1.docker.io"});
}

TEST_CASE("remotes: per-registry mirrors with fallback upstream or never", "[remotes]") {
  HostsConfig cfg;
  cfg.mirrors["quay.io"] =
      MirrorConfig{{"https://quay-cache.internal/prefix/"}, MirrorFallback::Upstream};
  cfg.mirrors["ghcr.io"] = MirrorConfig{{"https://ghcr-cache.internal/v2"}, MirrorFallback::Never};
  cfg.mirrors["docker.io"] = MirrorConfig{{"https://hub-cache.internal"}, MirrorFallback::Never};
  cfg.registry_mirrors = {"https://mirror.gcr.io"};
  auto quay = pull_endpoints(cfg, "quay.io");
  CHECK(urls(quay) ==
        std::vector<std::string>{"https://quay-cache.internal/prefix mirror", "https://quay.io"});
  // Same repository path on the mirror, under its prefix.
  CHECK(quay[0].url("/v2/coreos/etcd/manifests/v3") ==
        "https://quay-cache.internal/prefix/v2/coreos/etcd/manifests/v3");
  CHECK(urls(pull_endpoints(cfg, "ghcr.io")) ==
        std::vector<std::string>{"https://ghcr-cache.internal mirror"});
  CHECK(urls(pull_endpoints(cfg, "docker.io")) ==
        std::vector<std::string>{"https://mirror.gcr.io mirror",
                                 "https://hub-cache.internal mirror"});
  // Never with no mirrors at all still reaches the registry.
  cfg.mirrors["empty.io"] = MirrorConfig{{}, MirrorFallback::Never};
  CHECK(urls(pull_endpoints(cfg, "empty.io")) == std::vector<std::string>{"https://empty.io"});
}

TEST_CASE("remotes: insecure registries and loopback get https-unverified then http", "[remotes]") {
  HostsConfig cfg;
  cfg.insecure_registries = {"myregistry:5000", "plainhost", "192.168.0.0/16", "fd00::/8"};
  auto both = [](std::string host) {
    return std::vector<std::string>{"https://" + host + " (insecure)",
                                    "http://" + host + " (insecure)"};
  };
  CHECK(urls(pull_endpoints(cfg, "127.0.0.1:5000")) == both("127.0.0.1:5000"));
  CHECK(urls(pull_endpoints(cfg, "localhost:5000")) == both("localhost:5000"));
  CHECK(urls(pull_endpoints(cfg, "[::1]:5000")) == both("[::1]:5000"));
  CHECK(urls(pull_endpoints(cfg, "myregistry:5000")) == both("myregistry:5000"));
  CHECK(urls(pull_endpoints(cfg, "myregistry:5001")) ==
        std::vector<std::string>{"https://myregistry:5001"});
  CHECK(urls(pull_endpoints(cfg, "plainhost:8080")) == both("plainhost:8080"));
  CHECK(urls(pull_endpoints(cfg, "192.168.4.5:5000")) == both("192.168.4.5:5000"));
  CHECK(urls(pull_endpoints(cfg, "[fd00::1]:5000")) == both("[fd00::1]:5000"));
  CHECK(urls(pull_endpoints(cfg, "192.169.0.1")) ==
        std::vector<std::string>{"https://192.169.0.1"});
  CHECK(is_insecure_registry(cfg, "127.8.9.10"));
  CHECK_FALSE(is_insecure_registry(cfg, "registry.example.com"));
}

TEST_CASE("remotes: hosts config validation", "[remotes]") {
  HostsConfig ok;
  ok.registry_mirrors = {"https://mirror.gcr.io"};
  ok.insecure_registries = {"10.0.0.0/8", "host:5000"};
  CHECK(validate(ok));
  HostsConfig bad_mirror;
  bad_mirror.registry_mirrors = {"mirror.gcr.io"};
  auto st = validate(bad_mirror);
  REQUIRE_FALSE(st);
  CHECK(st.error().code == Errc::InvalidArgument);
  CHECK_THAT(st.error().message, Catch::Contains("mirror.gcr.io"));
  HostsConfig bad_scheme;
  bad_scheme.mirrors["quay.io"] = MirrorConfig{{"ftp://x"}, MirrorFallback::Upstream};
  CHECK_FALSE(validate(bad_scheme));
  HostsConfig bad_cidr;
  bad_cidr.insecure_registries = {"10.0.0.0/33"};
  CHECK_FALSE(validate(bad_cidr));
}
