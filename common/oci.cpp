#include "common/oci.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace imaged::oci {

using nlohmann::json;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// ---- strict JSON field access (no exceptions: type checks first) ----

// A JSON document from bytes, or InvalidArgument "<what>: invalid JSON".
Result<json> parse_json(std::string_view bytes, std::string_view what) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Errc::InvalidArgument, std::string(what) + ": invalid JSON");
  if (!j.is_object()) return fail(Errc::InvalidArgument, std::string(what) + ": not a JSON object");
  return j;
}

// Reads an optional string field; InvalidArgument if present with another type (null = absent).
Status opt_string(const json& obj, const char* key, std::string& out, std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_string())
    return fail(Errc::InvalidArgument,
                std::string(what) + ": field \"" + key + "\" must be a string");
  out = it->get<std::string>();
  return {};
}

Status req_string(const json& obj, const char* key, std::string& out, std::string_view what) {
  IMAGED_TRY(opt_string(obj, key, out, what));
  if (out.empty())
    return fail(Errc::InvalidArgument,
                std::string(what) + ": missing required field \"" + key + "\"");
  return {};
}

Status opt_string_map(const json& obj, const char* key, std::map<std::string, std::string>& out,
                      std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_object())
    return fail(Errc::InvalidArgument,
                std::string(what) + ": field \"" + key + "\" must be an object of strings");
  for (auto& [k, v] : it->items()) {
    if (!v.is_string())
      return fail(Errc::InvalidArgument,
                  std::string(what) + ": " + key + "[\"" + k + "\"] must be a string");
    out.emplace(k, v.get<std::string>());
  }
  return {};
}

Status opt_string_list(const json& obj, const char* key, std::vector<std::string>& out,
                       std::string_view what) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (!it->is_array())
    return fail(Errc::InvalidArgument,
                std::string(what) + ": field \"" + key + "\" must be an array of strings");
  for (auto& v : *it) {
    if (!v.is_string())
      return fail(Errc::InvalidArgument,
                  std::string(what) + ": field \"" + key + "\" must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return {};
}

Result<Platform> parse_platform_json(const json& j) {
  constexpr std::string_view what = "invalid platform";
  if (!j.is_object()) return fail(Errc::InvalidArgument, "invalid platform: not an object");
  Platform p;
  IMAGED_TRY(req_string(j, "architecture", p.architecture, what));
  IMAGED_TRY(req_string(j, "os", p.os, what));
  IMAGED_TRY(opt_string(j, "variant", p.variant, what));
  IMAGED_TRY(opt_string(j, "os.version", p.os_version, what));
  IMAGED_TRY(opt_string_list(j, "os.features", p.os_features, what));
  return p;
}

Result<Descriptor> parse_descriptor_in(const json& j, std::string_view where) {
  auto bad = [&](const std::string& msg) {
    return fail(Errc::InvalidArgument, "invalid descriptor (" + std::string(where) + "): " + msg);
  };
  if (!j.is_object()) return bad("not an object");
  std::string what = "invalid descriptor (" + std::string(where) + ")";
  std::string media_type;
  IMAGED_TRY(req_string(j, "mediaType", media_type, what));
  std::string digest_text;
  IMAGED_TRY(req_string(j, "digest", digest_text, what));
  auto digest = Digest::parse(digest_text);
  if (!digest) return bad("digest \"" + digest_text + "\": " + digest.error().message);
  auto size_it = j.find("size");
  if (size_it == j.end()) return bad("missing required field \"size\"");
  if (!size_it->is_number_integer()) return bad("field \"size\" must be an integer");
  int64_t size = 0;
  if (size_it->is_number_unsigned()) {
    auto u = size_it->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) return bad("size out of range");
    size = static_cast<int64_t>(u);
  } else {
    size = size_it->get<int64_t>();
  }
  if (size < 0) return bad("negative size");
  Descriptor d{.media_type = std::move(media_type), .digest = *std::move(digest), .size = size};
  if (auto it = j.find("platform"); it != j.end() && !it->is_null()) {
    auto p = parse_platform_json(*it);
    if (!p) return fail(p.error().context(what));
    d.platform = *std::move(p);
  }
  IMAGED_TRY(opt_string_map(j, "annotations", d.annotations, what));
  IMAGED_TRY(opt_string_list(j, "urls", d.urls, what));
  IMAGED_TRY(opt_string(j, "artifactType", d.artifact_type, what));
  return d;
}

Status check_schema_version(const json& j, std::string_view what) {
  auto it = j.find("schemaVersion");
  if (it == j.end())
    return fail(Errc::InvalidArgument, std::string(what) + ": missing schemaVersion");
  if (!it->is_number_integer() || it->get<int64_t>() != 2)
    return fail(Errc::InvalidArgument,
                std::string(what) + ": unsupported schemaVersion " + it->dump());
  return {};
}

// Resolves the media type of a manifest document and checks it against the wanted kind.
Result<std::string> document_media_type(const json& j, std::string_view bytes,
                                        std::string_view given, std::string_view what) {
  std::string mt(strip_media_type_params(given));
  if (mt.empty()) mt = detect_manifest_media_type(bytes);
  if (mt.empty()) {
    if (auto it = j.find("schemaVersion"); it != j.end() && *it == 1)
      mt = std::string(kDockerSchema1SignedManifest);
  }
  if (mt.empty()) return fail(Errc::InvalidArgument, std::string(what) + ": unknown media type");
  IMAGED_TRY(check_manifest_media_type(mt));
  if (auto it = j.find("schemaVersion"); it != j.end() && *it == 1)
    return fail(check_manifest_media_type(kDockerSchema1SignedManifest).error());
  std::string field;
  IMAGED_TRY(opt_string(j, "mediaType", field, what));
  if (!field.empty() && field != mt)
    return fail(Errc::InvalidArgument, std::string(what) + ": media type mismatch: expected " + mt +
                                           ", document says " + field);
  return mt;
}

// ---- platforms ----

bool is_known_os(std::string_view os) {
  static const std::set<std::string_view> kOs = {
      "aix",   "android", "darwin", "dragonfly", "freebsd", "hurd",    "illumos", "ios", "js",
      "linux", "nacl",    "netbsd", "openbsd",   "plan9",   "solaris", "windows", "zos"};
  return kOs.contains(os);
}

bool is_known_arch(std::string_view arch) {
  static const std::set<std::string_view> kArch = {
      "386",     "amd64",   "amd64p32", "arm",    "armbe",  "arm64",    "arm64be",   "ppc64",
      "ppc64le", "loong64", "mips",     "mipsle", "mips64", "mips64le", "mips64p32", "mips64p32le",
      "ppc",     "riscv",   "riscv64",  "s390",   "s390x",  "sparc",    "sparc64",   "wasm"};
  return kArch.contains(arch);
}

std::string normalize_os(std::string_view os) {
  if (os.empty()) return "linux";
  std::string o = lower(os);
  if (o == "macos") o = "darwin";
  return o;
}

// containerd's normalizeArch.
std::pair<std::string, std::string> normalize_arch(std::string_view arch_in,
                                                   std::string_view variant_in) {
  std::string arch = lower(arch_in), variant = lower(variant_in);
  if (arch == "i386") {
    arch = "386";
    variant.clear();
  } else if (arch == "x86_64" || arch == "x86-64" || arch == "amd64") {
    arch = "amd64";
    if (variant == "v1") variant.clear();
  } else if (arch == "aarch64" || arch == "arm64") {
    arch = "arm64";
    if (variant == "8" || variant == "v8" || variant == "v8.0")
      variant.clear();
    else if (variant == "9" || variant == "9.0" || variant == "v9.0")
      variant = "v9";
  } else if (arch == "armhf") {
    arch = "arm";
    variant = "v7";
  } else if (arch == "armel") {
    arch = "arm";
    variant = "v6";
  } else if (arch == "arm") {
    if (variant.empty() || variant == "7")
      variant = "v7";
    else if (variant == "5" || variant == "6" || variant == "8")
      variant = "v" + variant;
  }
  return {arch, variant};
}

bool valid_component(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-'))
      return false;
  return true;
}

std::string_view build_arch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__arm__)
  return "arm";
#elif defined(__i386__)
  return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "amd64";
#endif
}

std::optional<int> parse_version_number(std::string_view variant) {
  if (starts_with(variant, "v")) variant.remove_prefix(1);
  if (variant.empty() || variant.size() > 3) return std::nullopt;
  int n = 0;
  for (char c : variant) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

// containerd's platformVector: the wanted platform and the ones it can also run, best first.
std::vector<Platform> platform_vector(const Platform& p) {
  std::vector<Platform> v{p};
  auto with = [&](std::string arch, std::string variant) {
    Platform q = p;
    q.architecture = std::move(arch);
    q.variant = std::move(variant);
    return q;
  };
  if (p.architecture == "amd64") {
    if (auto n = parse_version_number(p.variant); n && *n > 1)
      for (int i = *n - 1; i >= 1; --i)
        v.push_back(with("amd64", i == 1 ? "" : "v" + std::to_string(i)));
    v.push_back(with("386", ""));
  } else if (p.architecture == "arm") {
    if (auto n = parse_version_number(p.variant); n && *n > 5)
      for (int i = *n - 1; i >= 5; --i) v.push_back(with("arm", "v" + std::to_string(i)));
  } else if (p.architecture == "arm64") {
    // arm64 v8.x / v9.x: every lower minor of the same major, v9.x also v8.(x+5); then 32-bit arm.
    std::string variant = p.variant.empty() ? "v8" : p.variant;
    v.clear();
    int major = 0, minor = 0;
    std::string_view rest = variant;
    if (starts_with(rest, "v")) rest.remove_prefix(1);
    auto dot = rest.find('.');
    auto maj = parse_version_number(rest.substr(0, dot));
    auto min = dot == std::string_view::npos ? std::optional<int>(0)
                                             : parse_version_number(rest.substr(dot + 1));
    if (maj && min && (*maj == 8 || *maj == 9) && *min <= 9) {
      major = *maj;
      minor = *min;
      auto add = [&](int ma, int mi) {
        for (int m = mi; m >= 0; --m)
          v.push_back(with("arm64", m == 0 ? "v" + std::to_string(ma)
                                           : "v" + std::to_string(ma) + "." + std::to_string(m)));
      };
      add(major, minor);
      if (major == 9) add(8, std::min(minor + 5, 9));
    } else {
      v.push_back(p);
    }
    for (int i = 8; i >= 5; --i) v.push_back(with("arm", "v" + std::to_string(i)));
  }
  for (auto& q : v) q = normalize(q);
  return v;
}

}  // namespace

// ---- media types ----

bool is_manifest_media_type(std::string_view mt) {
  return mt == kDockerManifest || mt == kOciManifest;
}
bool is_index_media_type(std::string_view mt) {
  return mt == kDockerManifestList || mt == kOciIndex;
}
bool is_config_media_type(std::string_view mt) { return mt == kDockerConfig || mt == kOciConfig; }
bool is_schema1_media_type(std::string_view mt) {
  return mt == kDockerSchema1Manifest || mt == kDockerSchema1SignedManifest;
}

bool is_layer_media_type(std::string_view mt) {
  if (starts_with(mt, "application/vnd.oci.image.layer.")) return true;
  return mt == kDockerLayer || mt == kDockerLayerGzip || mt == kDockerLayerZstd ||
         mt == kDockerForeignLayer || mt == kDockerForeignLayerGzip;
}

bool is_nondistributable_media_type(std::string_view mt) {
  return starts_with(mt, "application/vnd.oci.image.layer.nondistributable.") ||
         starts_with(mt, "application/vnd.docker.image.rootfs.foreign.");
}

std::string_view strip_media_type_params(std::string_view ct) {
  if (auto semi = ct.find(';'); semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.front()))) ct.remove_prefix(1);
  while (!ct.empty() && std::isspace(static_cast<unsigned char>(ct.back()))) ct.remove_suffix(1);
  return ct;
}

Status check_manifest_media_type(std::string_view mt) {
  if (is_manifest_media_type(mt) || is_index_media_type(mt)) return {};
  if (is_schema1_media_type(mt))
    return fail(Errc::InvalidArgument,
                "unsupported manifest media type " + std::string(mt) +
                    ": Docker Image manifest version 2, schema 1 is not supported; re-push the "
                    "image with a newer client (Docker Image manifest v2 schema 2 or OCI)");
  return fail(Errc::InvalidArgument,
              "unsupported manifest media type " + std::string(mt.empty() ? "\"\"" : mt));
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::None:
      return "none";
    case Compression::Gzip:
      return "gzip";
    case Compression::Zstd:
      return "zstd";
  }
  return "none";
}

Result<Compression> layer_compression(std::string_view mt) {
  if (mt == kDockerLayer || mt == kDockerForeignLayer || mt == kOciLayer ||
      mt == kOciNondistributableLayer)
    return Compression::None;
  if (mt == kDockerLayerGzip || mt == kDockerForeignLayerGzip || mt == kOciLayerGzip ||
      mt == kOciNondistributableLayerGzip)
    return Compression::Gzip;
  if (mt == kDockerLayerZstd || mt == kOciLayerZstd || mt == kOciNondistributableLayerZstd)
    return Compression::Zstd;
  if (is_layer_media_type(mt))
    return fail(Errc::InvalidArgument, "unsupported layer media type " + std::string(mt));
  return fail(Errc::InvalidArgument, "not a layer media type: " + std::string(mt));
}

// ---- platform ----

// containerd's platforms.Parse, errors worded as dockerd sends them (errdefs.ErrInvalidArgument
// wrapped: `"<spec>": <why>: invalid argument`); components are checked before their count.
// Components may hold '.' (arm64 variants such as v8.5), as current containerd allows; 20.10's
// containerd said ^[A-Za-z0-9_-]+$.
Result<Platform> Platform::parse(std::string_view spec) {
  const std::string quoted = "\"" + std::string(spec) + "\"";
  auto bad = [&](const std::string& why) {
    return fail(Errc::InvalidArgument, quoted + ": " + why + ": invalid argument");
  };
  if (spec.find('*') != std::string_view::npos) return bad("wildcards not yet supported");
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    auto slash = spec.find('/', start);
    parts.push_back(spec.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (auto part : parts)
    if (!valid_component(part))
      return fail(Errc::InvalidArgument,
                  "\"" + std::string(part) + "\" is an invalid component of " + quoted +
                      ": platform specifier component must match \"^[A-Za-z0-9_.-]+$\": "
                      "invalid argument");
  if (parts.size() > 3) return bad("cannot parse platform specifier");

  Platform p;
  p.os = normalize_os(parts[0]);
  switch (parts.size()) {
    case 1: {
      if (is_known_os(p.os)) {
        p.architecture = std::string(build_arch());
        return p;
      }
      auto [arch, variant] = normalize_arch(parts[0], "");
      if (arch == "arm" && variant == "v7") variant.clear();
      if (!is_known_arch(arch)) return bad("unknown operating system or architecture");
      return Platform{"linux", arch, variant, "", {}};
    }
    case 2: {
      auto [arch, variant] = normalize_arch(parts[1], "");
      if (arch == "arm" && variant == "v7") variant.clear();
      p.architecture = arch;
      p.variant = variant;
      return p;
    }
    default: {
      auto [arch, variant] = normalize_arch(parts[1], parts[2]);
      if (arch == "arm64" && variant.empty()) variant = "v8";
      p.architecture = arch;
      p.variant = variant;
      return p;
    }
  }
}

std::string Platform::str() const {
  if (os.empty()) return "unknown";
  std::string s = os;
  if (!architecture.empty()) s += "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform normalize(Platform p) {
  p.os = normalize_os(p.os);
  std::tie(p.architecture, p.variant) = normalize_arch(p.architecture, p.variant);
  std::sort(p.os_features.begin(), p.os_features.end());
  p.os_features.erase(std::unique(p.os_features.begin(), p.os_features.end()), p.os_features.end());
  return p;
}

Platform host_platform() {
  return normalize(Platform{"linux", std::string(build_arch()), "", "", {}});
}

PlatformMatcher::PlatformMatcher(const Platform& wanted)
    : wanted_(normalize(wanted)), preference_(platform_vector(wanted_)) {}

std::optional<int> PlatformMatcher::rank(const Platform& p) const {
  Platform n = normalize(p);
  // Features the candidate requires must all be offered by the wanted platform.
  for (const auto& f : n.os_features)
    if (!std::binary_search(wanted_.os_features.begin(), wanted_.os_features.end(), f))
      return std::nullopt;
  for (size_t i = 0; i < preference_.size(); ++i) {
    const Platform& w = preference_[i];
    if (w.os == n.os && w.architecture == n.architecture && w.variant == n.variant)
      return static_cast<int>(i);
  }
  return std::nullopt;
}

// ---- descriptors, manifests, indexes ----

Result<Descriptor> parse_descriptor(const json& j) { return parse_descriptor_in(j, "descriptor"); }

json to_json(const Platform& p) {
  json j = {{"architecture", p.architecture}, {"os", p.os}};
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

json to_json(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) j["platform"] = to_json(*d.platform);
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  return j;
}

std::string detect_manifest_media_type(std::string_view bytes, std::string_view content_type) {
  std::string_view ct = strip_media_type_params(content_type);
  if (is_manifest_media_type(ct) || is_index_media_type(ct) || is_schema1_media_type(ct))
    return std::string(ct);
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {};
  if (auto it = j.find("mediaType");
      it != j.end() && it->is_string() && !it->get<std::string>().empty())
    return it->get<std::string>();
  if (auto it = j.find("schemaVersion"); it != j.end() && *it == 1)
    return std::string(kDockerSchema1SignedManifest);
  if (j.contains("manifests")) return std::string(kOciIndex);
  if (j.contains("config")) return std::string(kOciManifest);
  return {};
}

Result<Manifest> parse_manifest(std::string_view bytes, std::string_view media_type) {
  constexpr std::string_view what = "invalid manifest";
  if (static_cast<int64_t>(bytes.size()) > kMaxManifestSize)
    return fail(Errc::InvalidArgument, "manifest too large: " + std::to_string(bytes.size()) +
                                           " bytes (limit " + std::to_string(kMaxManifestSize) +
                                           ")");
  json j = IMAGED_TRY(parse_json(bytes, what));
  std::string mt = IMAGED_TRY(document_media_type(j, bytes, media_type, what));
  if (!is_manifest_media_type(mt))
    return fail(Errc::InvalidArgument,
                std::string(what) + ": expected an image manifest, got " + mt);
  IMAGED_TRY(check_schema_version(j, what));
  if (j.contains("manifests"))
    return fail(Errc::InvalidArgument, std::string(what) + ": has \"manifests\" (an index?)");
  auto cfg_it = j.find("config");
  if (cfg_it == j.end()) return fail(Errc::InvalidArgument, std::string(what) + ": missing config");
  Descriptor config = IMAGED_TRY(parse_descriptor_in(*cfg_it, "config"));
  Manifest m{.media_type = mt, .config = std::move(config)};
  auto layers_it = j.find("layers");
  if (layers_it == j.end() || !layers_it->is_array())
    return fail(Errc::InvalidArgument, std::string(what) + ": \"layers\" must be an array");
  for (size_t i = 0; i < layers_it->size(); ++i)
    m.layers.push_back(
        IMAGED_TRY(parse_descriptor_in((*layers_it)[i], "layer " + std::to_string(i))));
  IMAGED_TRY(opt_string_map(j, "annotations", m.annotations, what));
  if (auto it = j.find("subject"); it != j.end() && !it->is_null())
    m.subject = IMAGED_TRY(parse_descriptor_in(*it, "subject"));
  IMAGED_TRY(opt_string(j, "artifactType", m.artifact_type, what));
  return m;
}

Result<Index> parse_index(std::string_view bytes, std::string_view media_type) {
  constexpr std::string_view what = "invalid manifest list";
  if (static_cast<int64_t>(bytes.size()) > kMaxManifestSize)
    return fail(Errc::InvalidArgument, "manifest list too large: " + std::to_string(bytes.size()) +
                                           " bytes (limit " + std::to_string(kMaxManifestSize) +
                                           ")");
  json j = IMAGED_TRY(parse_json(bytes, what));
  std::string mt = IMAGED_TRY(document_media_type(j, bytes, media_type, what));
  if (!is_index_media_type(mt))
    return fail(Errc::InvalidArgument, std::string(what) + ": expected an index, got " + mt);
  IMAGED_TRY(check_schema_version(j, what));
  if (j.contains("config") || j.contains("layers"))
    return fail(Errc::InvalidArgument,
                std::string(what) + ": has \"config\" or \"layers\" (an image manifest?)");
  auto it = j.find("manifests");
  if (it == j.end() || !it->is_array())
    return fail(Errc::InvalidArgument, std::string(what) + ": \"manifests\" must be an array");
  Index idx{.media_type = mt};
  for (size_t i = 0; i < it->size(); ++i)
    idx.manifests.push_back(
        IMAGED_TRY(parse_descriptor_in((*it)[i], "manifest " + std::to_string(i))));
  IMAGED_TRY(opt_string_map(j, "annotations", idx.annotations, what));
  if (auto s = j.find("subject"); s != j.end() && !s->is_null())
    idx.subject = IMAGED_TRY(parse_descriptor_in(*s, "subject"));
  return idx;
}

Status check_image_manifest(const Manifest& m) {
  if (!is_config_media_type(m.config.media_type))
    return fail(Errc::InvalidArgument, "unsupported config media type " + m.config.media_type +
                                           " (not a container image)");
  for (const auto& l : m.layers) {
    auto c = layer_compression(l.media_type);
    if (!c) return fail(c.error());
  }
  return {};
}

Result<Descriptor> select_manifest(const Index& index, const PlatformMatcher& matcher) {
  const Descriptor* best = nullptr;
  int best_rank = 0;
  std::vector<std::string> available;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    std::string s = d.platform->str();
    if (d.platform->os != "unknown" &&
        std::find(available.begin(), available.end(), s) == available.end())
      available.push_back(s);
    auto r = matcher.rank(*d.platform);
    if (r && (!best || *r < best_rank)) {
      best = &d;
      best_rank = *r;
    }
  }
  if (best) return *best;
  std::string msg =
      "no matching manifest for " + matcher.wanted().str() + " in the manifest list entries";
  if (!available.empty()) {
    msg += " (available:";
    for (size_t i = 0; i < available.size(); ++i) msg += (i ? ", " : " ") + available[i];
    msg += ")";
  }
  return fail(Errc::NotFound, msg);
}

// ---- image config ----

Result<ImageConfig> parse_image_config(std::string_view bytes) {
  constexpr std::string_view what = "invalid image config";
  if (static_cast<int64_t>(bytes.size()) > kMaxConfigSize)
    return fail(Errc::InvalidArgument,
                "image config too large: " + std::to_string(bytes.size()) + " bytes");
  json j = IMAGED_TRY(parse_json(bytes, what));
  ImageConfig c;
  IMAGED_TRY(req_string(j, "architecture", c.architecture, what));
  IMAGED_TRY(req_string(j, "os", c.os, what));
  IMAGED_TRY(opt_string(j, "variant", c.variant, what));
  IMAGED_TRY(opt_string(j, "os.version", c.os_version, what));
  IMAGED_TRY(opt_string(j, "created", c.created, what));
  if (!c.created.empty()) {
    auto t = parse_rfc3339(c.created);
    if (!t) return fail(t.error().context(what));
  }
  IMAGED_TRY(opt_string(j, "author", c.author, what));
  IMAGED_TRY(opt_string(j, "docker_version", c.docker_version, what));
  IMAGED_TRY(opt_string(j, "comment", c.comment, what));
  if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
    if (!it->is_object())
      return fail(Errc::InvalidArgument, std::string(what) + ": \"config\" must be an object");
    c.config = *it;
  } else {
    c.config = nullptr;
  }
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object())
    return fail(Errc::InvalidArgument, std::string(what) + ": missing rootfs");
  std::string type;
  IMAGED_TRY(opt_string(*rootfs, "type", type, what));
  if (type != "layers")
    return fail(Errc::InvalidArgument,
                std::string(what) + ": rootfs type must be \"layers\", got \"" + type + "\"");
  auto ids = rootfs->find("diff_ids");
  if (ids != rootfs->end() && !ids->is_null()) {
    if (!ids->is_array())
      return fail(Errc::InvalidArgument, std::string(what) + ": rootfs.diff_ids must be an array");
    for (const auto& id : *ids) {
      if (!id.is_string())
        return fail(Errc::InvalidArgument, std::string(what) + ": diff_id must be a string");
      auto d = Digest::parse(id.get<std::string>());
      if (!d)
        return fail(Errc::InvalidArgument, std::string(what) + ": diff_id \"" +
                                               id.get<std::string>() + "\": " + d.error().message);
      c.diff_ids.push_back(*std::move(d));
    }
  }
  if (auto h = j.find("history"); h != j.end() && !h->is_null()) {
    if (!h->is_array())
      return fail(Errc::InvalidArgument, std::string(what) + ": history must be an array");
    for (const auto& e : *h) {
      if (!e.is_object())
        return fail(Errc::InvalidArgument, std::string(what) + ": history entry must be an object");
      HistoryEntry he;
      IMAGED_TRY(opt_string(e, "created", he.created, what));
      IMAGED_TRY(opt_string(e, "created_by", he.created_by, what));
      IMAGED_TRY(opt_string(e, "comment", he.comment, what));
      IMAGED_TRY(opt_string(e, "author", he.author, what));
      if (auto el = e.find("empty_layer"); el != e.end() && !el->is_null()) {
        if (!el->is_boolean())
          return fail(Errc::InvalidArgument, std::string(what) + ": empty_layer must be a boolean");
        he.empty_layer = el->get<bool>();
      }
      c.history.push_back(std::move(he));
    }
  }
  return c;
}

Result<std::chrono::sys_seconds> parse_rfc3339(std::string_view s) {
  auto bad = [&] {
    return fail(Errc::InvalidArgument, "invalid RFC 3339 time \"" + std::string(s) + "\"");
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, sec;
  if (!digits(0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(5, 2, mo) || s[7] != '-' ||
      !digits(8, 2, d) || (s[10] != 'T' && s[10] != 't') || !digits(11, 2, h) || s[13] != ':' ||
      !digits(14, 2, mi) || s[16] != ':' || !digits(17, 2, sec))
    return bad();
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t start = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == start) return bad();
  }
  int offset_minutes = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(pos + 4, 2, om) || oh > 23 || om > 59)
      return bad();
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  using namespace std::chrono;
  year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  return sys_seconds{sys_days{ymd}} + hours{h} + minutes{mi} + seconds{sec} -
         minutes{offset_minutes};
}

std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids) {
  std::vector<Digest> out;
  out.reserve(diff_ids.size());
  for (const Digest& d : diff_ids)
    out.push_back(out.empty() ? d : Digest::of(out.back().str() + " " + d.str()));
  return out;
}

}  // namespace imaged::oci
