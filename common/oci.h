// OCI / Docker image value types: media types, descriptors, platforms, manifests, indexes and
// image configs, parsed from the exact bytes a registry served (after the OCI image-spec and
// containerd's core/images + platforms packages).
//
// All parse functions are strict and never throw: malformed or unsupported input gives
// Errc::InvalidArgument with a message naming what is wrong. Schema 1 manifests are refused.
// All types are plain values; every function is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/digest.h"
#include "common/error.h"

namespace imaged::oci {

// ---- Media types ----------------------------------------------------------------------------

// Manifests and indexes (the four types a registry client accepts).
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";

// Schema 1 (refused, see is_schema1_media_type).
inline constexpr std::string_view kDockerSchema1Manifest =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1SignedManifest =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// Image configs.
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";

// Layers.
inline constexpr std::string_view kDockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzip =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kDockerLayerZstd =
    "application/vnd.docker.image.rootfs.diff.tar.zstd";
inline constexpr std::string_view kDockerForeignLayer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar";
inline constexpr std::string_view kDockerForeignLayerGzip =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kOciNondistributableLayer =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view kOciNondistributableLayerGzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view kOciNondistributableLayerZstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// The Accept header value for manifest requests: the four supported types.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.oci.image.index.v1+json";

// Registries must not serve manifests larger than this (containerd's limit); larger ones are
// refused before and after download.
inline constexpr int64_t kMaxManifestSize = 4 * 1024 * 1024;
// Image configs larger than this are refused (parse_image_config, pull, inspect).
inline constexpr int64_t kMaxConfigSize = 8 * 1024 * 1024;

bool is_manifest_media_type(std::string_view media_type);  // docker v2 or OCI image manifest
bool is_index_media_type(std::string_view media_type);     // docker list or OCI index
bool is_config_media_type(std::string_view media_type);    // docker or OCI image config
bool is_schema1_media_type(std::string_view media_type);
// True for every docker/OCI layer type above, including unknown "+suffix" OCI layer variants
// (application/vnd.oci.image.layer.*).
bool is_layer_media_type(std::string_view media_type);
// Foreign (docker) and nondistributable (OCI) layers: pushed by reference only.
bool is_nondistributable_media_type(std::string_view media_type);

// Strips parameters and whitespace from a Content-Type value ("a/b; charset=x" → "a/b").
std::string_view strip_media_type_params(std::string_view content_type);

// Fails unless `media_type` is one of the four manifest/index types. Schema 1 gets
// InvalidArgument "unsupported manifest media type <t>: Docker Image manifest version 2,
// schema 1 is not supported; re-push the image with a newer client"; other types get
// InvalidArgument "unsupported manifest media type <t>".
Status check_manifest_media_type(std::string_view media_type);

enum class Compression { None, Gzip, Zstd };
std::string_view compression_name(Compression c);  // "none" | "gzip" | "zstd"
// The compression of a layer media type. InvalidArgument for non-layer types and for layer
// types this daemon cannot unpack (e.g. "+encrypted").
Result<Compression> layer_compression(std::string_view media_type);

// ---- Platform ---------------------------------------------------------------------------------

struct Platform {
  std::string os;            // "linux"
  std::string architecture;  // "amd64", "arm64", "arm", ...
  std::string variant;       // "v7", "v8", ... or empty
  std::string os_version;    // mostly Windows
  std::vector<std::string> os_features;

  // Parses a specifier as docker's --platform does (containerd's platforms.Parse):
  // "linux/arm64/v8", "linux/amd64", "linux" (→ this daemon's architecture), "arm64" (→ linux).
  // Components are normalised (aarch64 → arm64, x86_64 → amd64, armhf → arm/v7, ...); a
  // three-part arm64 without a variant gets "v8". InvalidArgument with the reason otherwise.
  static Result<Platform> parse(std::string_view specifier);

  // "os/arch[/variant]" ("unknown" when os is empty).
  std::string str() const;

  bool operator==(const Platform&) const = default;
};

// containerd's Normalize: lower-case, os aliases (macos → darwin, empty → linux), architecture
// aliases (aarch64/x86_64/i386/armhf/armel), and variant defaults (arm → v7, arm64 v8 → "",
// amd64 v1 → ""). Two platforms are the same when their normalised forms are equal.
Platform normalize(Platform p);

// The platform this daemon runs images for (linux/<build architecture>, e.g. linux/amd64).
Platform host_platform();

// Picks manifests for one wanted platform, after containerd's platforms.Only: the exact
// platform first, then compatible ones in order of preference (amd64 → 386; arm64 → arm/v8,
// arm/v7 ...; arm/v7 → arm/v6, arm/v5; amd64/v3 → amd64/v2, amd64). Windows os_version
// matching is not implemented (os_version is ignored).
class PlatformMatcher {
 public:
  explicit PlatformMatcher(const Platform& wanted);
  const Platform& wanted() const { return wanted_; }
  bool match(const Platform& p) const { return rank(p).has_value(); }
  // 0 for the best kind of match, larger for less preferred; nullopt when incompatible.
  std::optional<int> rank(const Platform& p) const;

 private:
  Platform wanted_;
  std::vector<Platform> preference_;  // normalised, best first
};

// ---- Descriptors, manifests, indexes ----------------------------------------------------------

// A content descriptor. There is no default constructor for Digest, so build one with
// designated initialisers naming at least .media_type, .digest and .size.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::string artifact_type;
};

// Parses one descriptor object (mediaType, digest, size required). InvalidArgument otherwise.
Result<Descriptor> parse_descriptor(const nlohmann::json& j);
nlohmann::json to_json(const Descriptor& d);
nlohmann::json to_json(const Platform& p);

struct Manifest {
  std::string media_type;  // kDockerManifest or kOciManifest
  Descriptor config;
  std::vector<Descriptor> layers;
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
  std::string artifact_type;
};

struct Index {
  std::string media_type;  // kDockerManifestList or kOciIndex
  std::vector<Descriptor> manifests;
  std::map<std::string, std::string> annotations;
  std::optional<Descriptor> subject;
};

// The media type of manifest bytes: the Content-Type (parameters stripped) when it is one of the
// four supported types or a schema 1 type, else the document's "mediaType", else inferred from
// the shape (an OCI document without mediaType: "manifests" → index, "config" → manifest),
// else schema 1 when schemaVersion is 1. Empty when nothing fits. Never fails.
std::string detect_manifest_media_type(std::string_view bytes, std::string_view content_type = {});

// Parse an image manifest / an index. `media_type` is what the descriptor or the Content-Type
// said (may be empty: then detect_manifest_media_type decides). Checks: size ≤ kMaxManifestSize,
// a JSON object, schemaVersion 2, mediaType field consistent with `media_type`, the shape
// (no "manifests" in a manifest, no "config"/"layers" in an index), every descriptor valid.
Result<Manifest> parse_manifest(std::string_view bytes, std::string_view media_type = {});
Result<Index> parse_index(std::string_view bytes, std::string_view media_type = {});

// Checks that a parsed manifest is a container image this daemon can store and run: a known
// config media type and only layer media types it can unpack. InvalidArgument otherwise.
Status check_image_manifest(const Manifest& m);

// The best manifest of `index` for `matcher` (ties: the first in index order). Entries without a
// platform are skipped. NotFound "no matching manifest for linux/amd64 in the manifest list
// entries (available: linux/arm64/v8, linux/arm/v7)" when none is compatible.
Result<Descriptor> select_manifest(const Index& index, const PlatformMatcher& matcher);

// ---- Image config -----------------------------------------------------------------------------

struct HistoryEntry {
  std::string created;  // RFC 3339 as stored, may be empty
  std::string created_by;
  std::string comment;
  std::string author;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string architecture;
  std::string os;
  std::string variant;
  std::string os_version;
  std::string created;  // RFC 3339 as stored, may be empty
  std::string author;
  std::string docker_version;
  std::string comment;
  nlohmann::json config = nlohmann::json::object();  // the raw "config" object, for inspect
  std::vector<Digest> diff_ids;                      // rootfs.diff_ids
  std::vector<HistoryEntry> history;

  Platform platform() const { return Platform{os, architecture, variant, os_version, {}}; }
};

// Parses an image config: a JSON object with non-empty "architecture" and "os", a "rootfs" of
// type "layers" whose diff_ids are sha256 digests, optional well-typed history. InvalidArgument
// otherwise. Size limit: 8 MiB.
Result<ImageConfig> parse_image_config(std::string_view bytes);

// RFC 3339 ("2024-01-02T03:04:05.123456789Z", "…+02:00") to whole seconds since the epoch (the
// fraction is validated and dropped; seconds keep year 0001 representable, which "zero" Go
// timestamps use). InvalidArgument for anything else.
Result<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

// The image spec's ChainIDs of a layer stack (config.md "Layer ChainID"): chain[0] = diff_ids[0],
// chain[i] = sha256(chain[i-1] + " " + diff_ids[i]). dockerd names its layers by them.
std::vector<Digest> chain_ids(const std::vector<Digest>& diff_ids);

}  // namespace imaged::oci
