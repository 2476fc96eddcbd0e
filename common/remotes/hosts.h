// Registry host resolution: which endpoints (scheme, host, path prefix, TLS verification) serve a
// registry domain, in the order they are tried (user need N4).
//
//  - "docker.io" is served by https://registry-1.docker.io.
//  - dockerd's `registry-mirrors` apply to docker.io only; our `mirrors` map gives any registry
//    its own mirror list with `fallback`: Upstream (mirrors first, then the registry itself, as
//    dockerd does) or Never (mirrors only). Repository paths are the same on a mirror
//    ("library/busybox"). Pushes never go to mirrors.
//  - `insecure-registries` entries ("host", "host:port" or a CIDR such as "10.0.0.0/8") and
//    loopback hosts (127.0.0.0/8, ::1, localhost) get https without certificate verification,
//    then plain http, like dockerd. CIDRs match IP-literal hosts only (no DNS lookups here).
// Pure functions of the configuration; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imaged::remotes {

enum class MirrorFallback { Upstream, Never };

struct MirrorConfig {
  std::vector<std::string> urls;  // "https://mirror.example.com", "http://10.0.0.2:5000/prefix"
  MirrorFallback fallback = MirrorFallback::Upstream;
};

struct HostsConfig {
  std::vector<std::string> registry_mirrors;     // dockerd's: for docker.io only
  std::vector<std::string> insecure_registries;  // dockerd's: "host[:port]" or CIDR
  std::map<std::string, MirrorConfig> mirrors;   // ours: registry domain → its mirrors
};

// InvalidArgument naming the bad entry: a mirror URL that is not http(s)://host[:port][/path],
// a malformed CIDR.
Status validate(const HostsConfig& config);

struct Endpoint {
  std::string registry;     // the domain this endpoint serves: "docker.io", "127.0.0.1:5000"
  std::string scheme;       // "https" | "http"
  std::string host;         // "registry-1.docker.io", "127.0.0.1:5000", "[::1]:5000"
  std::string path_prefix;  // "" or "/prefix" (no trailing slash) from a mirror URL
  bool mirror = false;
  bool tls_verify = true;

  // scheme://host + path_prefix + path; `path` starts with "/v2/" or "/v1/".
  std::string url(std::string_view path) const;
  // "https://registry-1.docker.io" (+ prefix): for messages and Resolved::endpoint.
  std::string base_url() const { return scheme + "://" + host + path_prefix; }
  bool operator==(const Endpoint&) const = default;
};

// Endpoints to pull from, in order: mirrors, then (unless fallback is Never and there are
// mirrors) the registry itself (https, then http for an insecure/loopback registry).
std::vector<Endpoint> pull_endpoints(const HostsConfig& config, std::string_view domain);
// The registry itself only: for push, login, catalog.
std::vector<Endpoint> upstream_endpoints(const HostsConfig& config, std::string_view domain);

// True for an insecure-registries entry or a loopback host. `host` is "host[:port]".
bool is_insecure_registry(const HostsConfig& config, std::string_view host);

}  // namespace imaged::remotes
