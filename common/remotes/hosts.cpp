#include "common/remotes/hosts.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <optional>

namespace imaged::remotes {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "host:port" → "host", "[::1]:5000" → "::1", "::1" stays.
std::string hostname_of(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    return std::string(host.substr(1, close == std::string_view::npos ? host.npos : close - 1));
  }
  if (std::count(host.begin(), host.end(), ':') == 1)
    return std::string(host.substr(0, host.find(':')));
  return std::string(host);
}

struct IpAddr {
  int family = 0;  // AF_INET / AF_INET6
  std::array<unsigned char, 16> bytes{};
};

std::optional<IpAddr> parse_ip(const std::string& text) {
  IpAddr a;
  if (::inet_pton(AF_INET, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (::inet_pton(AF_INET6, text.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    // An IPv4-mapped address (::ffff:a.b.c.d) is treated as IPv4.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
      IpAddr v4;
      v4.family = AF_INET;
      std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
      return v4;
    }
    return a;
  }
  return std::nullopt;
}

struct Cidr {
  IpAddr net;
  int bits = 0;
};

std::optional<Cidr> parse_cidr(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto ip = parse_ip(std::string(text.substr(0, slash)));
  if (!ip) return std::nullopt;
  std::string_view b = text.substr(slash + 1);
  if (b.empty() || b.size() > 3 || !std::all_of(b.begin(), b.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      }))
    return std::nullopt;
  int bits = std::stoi(std::string(b));
  if (bits > (ip->family == AF_INET ? 32 : 128)) return std::nullopt;
  return Cidr{*ip, bits};
}

bool cidr_contains(const Cidr& c, const IpAddr& ip) {
  if (c.net.family != ip.family) return false;
  int full = c.bits / 8, rest = c.bits % 8;
  if (std::memcmp(c.net.bytes.data(), ip.bytes.data(), full) != 0) return false;
  if (rest == 0) return true;
  unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
  return (c.net.bytes[full] & mask) == (ip.bytes[full] & mask);
}

bool is_loopback(const std::string& hostname) {
  if (hostname == "localhost" || (hostname.size() > 10 && hostname.ends_with(".localhost")))
    return true;
  auto ip = parse_ip(hostname);
  if (!ip) return false;
  if (ip->family == AF_INET) return ip->bytes[0] == 127;
  static const unsigned char kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(ip->bytes.data(), kLoop, 16) == 0;
}

struct ParsedUrl {
  std::string scheme, host, path;
};

std::optional<ParsedUrl> parse_mirror_url(std::string_view url) {
  auto sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  ParsedUrl p;
  p.scheme = lower(url.substr(0, sep));
  if (p.scheme != "http" && p.scheme != "https") return std::nullopt;
  std::string_view rest = url.substr(sep + 3);
  auto slash = rest.find('/');
  p.host = lower(rest.substr(0, slash));
  if (p.host.empty() || p.host.find_first_of("?#@ ") != std::string::npos) return std::nullopt;
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    if (path.find_first_of("?#") != std::string_view::npos) return std::nullopt;
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    // A mirror URL ending in /v2 means the same as without it.
    if (path.ends_with("/v2")) path.remove_suffix(3);
    p.path = std::string(path);
  }
  return p;
}

std::string upstream_host(std::string_view domain) {
  std::string d = lower(domain);
  if (d == "docker.io" || d == "index.docker.io") return "registry-1.docker.io";
  return d;
}

void add_unique(std::vector<Endpoint>& out, Endpoint e) {
  if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(std::move(e));
}

}  // namespace

std::string Endpoint::url(std::string_view path) const {
  return scheme + "://" + host + path_prefix + std::string(path);
}

Status validate(const HostsConfig& config) {
  auto check_urls = [](const std::vector<std::string>& urls, const std::string& what) -> Status {
    for (const auto& u : urls)
      if (!parse_mirror_url(u))
        return fail(Errc::InvalidArgument, "invalid mirror URL \"" + u + "\" for " + what +
                                               ": must be http(s)://host[:port][/path]");
    return {};
  };
  IMAGED_TRY(check_urls(config.registry_mirrors, "registry-mirrors"));
  for (const auto& [registry, m] : config.mirrors) {
    if (registry.empty()) return fail(Errc::InvalidArgument, "mirrors: empty registry name");
    IMAGED_TRY(check_urls(m.urls, registry));
  }
  for (const auto& entry : config.insecure_registries) {
    if (entry.empty()) return fail(Errc::InvalidArgument, "insecure-registries: empty entry");
    if (entry.find('/') != std::string::npos && !parse_cidr(entry))
      return fail(Errc::InvalidArgument, "insecure-registries: invalid CIDR \"" + entry + "\"");
  }
  return {};
}

bool is_insecure_registry(const HostsConfig& config, std::string_view host_in) {
  std::string host = lower(host_in);
  std::string hostname = hostname_of(host);
  if (is_loopback(hostname)) return true;
  auto ip = parse_ip(hostname);
  for (const auto& entry_raw : config.insecure_registries) {
    std::string entry = lower(entry_raw);
    if (auto p = entry.find("://"); p != std::string::npos) entry = entry.substr(p + 3);
    if (entry.find('/') != std::string::npos) {
      if (auto c = parse_cidr(entry); c && ip && cidr_contains(*c, *ip)) return true;
      continue;
    }
    if (entry == host) return true;
    // An entry without a port covers every port of that host.
    if (hostname_of(entry) == entry && entry == hostname) return true;
  }
  return false;
}

std::vector<Endpoint> upstream_endpoints(const HostsConfig& config, std::string_view domain) {
  std::string registry = lower(domain);
  if (registry == "index.docker.io") registry = "docker.io";
  std::string host = upstream_host(registry);
  std::vector<Endpoint> out;
  if (is_insecure_registry(config, host)) {
    out.push_back(Endpoint{registry, "https", host, "", false, false});
    out.push_back(Endpoint{registry, "http", host, "", false, false});
  } else {
    out.push_back(Endpoint{registry, "https", host, "", false, true});
  }
  return out;
}

std::vector<Endpoint> pull_endpoints(const HostsConfig& config, std::string_view domain) {
  std::string registry = lower(domain);
  if (registry == "index.docker.io") registry = "docker.io";
  std::vector<std::string> urls;
  MirrorFallback fallback = MirrorFallback::Upstream;
  if (registry == "docker.io") urls = config.registry_mirrors;
  if (auto it = config.mirrors.find(registry); it != config.mirrors.end()) {
    urls.insert(urls.end(), it->second.urls.begin(), it->second.urls.end());
    fallback = it->second.fallback;
  }
  std::vector<Endpoint> out;
  for (const auto& u : urls) {
    auto p = parse_mirror_url(u);
    if (!p) continue;  // validate() reports these
    bool insecure = is_insecure_registry(config, p->host);
    add_unique(out, Endpoint{registry, p->scheme, p->host, p->path, true,
                             !(insecure && p->scheme == "https")});
  }
  if (out.empty() || fallback == MirrorFallback::Upstream)
    for (auto& e : upstream_endpoints(config, registry)) add_unique(out, std::move(e));
  return out;
}

}  // namespace imaged::remotes
