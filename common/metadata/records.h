// Value records of the metadata store: plain structs, one per table row (or query result).
//
// Conventions: image ids and blob digests are "sha256:<64 hex>" strings (validated on write);
// times are nanoseconds since the Unix epoch (int64); sizes are bytes. Repositories are the
// full normalised name ("docker.io/library/busybox"); the store never parses or rewrites them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imaged::metadata {

struct ImageRecord {
  std::string id;          // "sha256:<hex>" of the config blob (also a blobs row)
  int64_t created_ns = 0;  // the config's "created"; 0 when absent
  std::string os;
  std::string architecture;
  std::string variant;
  std::string author;
  std::string docker_version;
  std::string comment;
  // Derived by put_image (the values passed in are ignored):
  int64_t size = 0;                // sum of the layers' diff_size() (dockerd's Size)
  int64_t content_size = 0;        // bytes of all distinct blobs: config + manifests + layers
  std::string labels_json = "{}";  // the config's Labels as a JSON object
  std::string config_media_type;
  int64_t config_size = 0;              // bytes of the config blob
  int64_t added_ns = 0;                 // when the image entered the store
  int64_t last_tag_ns = 0;              // updated by set_tag; 0 = never tagged
  std::optional<int64_t> last_used_ns;  // touch_last_used; nullopt = never used
  bool pinned = false;                  // pinned images are exempt from prune (the caller's policy)

  bool operator==(const ImageRecord&) const = default;
};

struct LayerRecord {
  std::string digest;   // the compressed blob as the registry serves it
  std::string diff_id;  // sha256 of the uncompressed tar
  int64_t size = 0;     // compressed bytes
  int64_t uncompressed_size = 0;
  std::string media_type;
  // Bytes of the layer unpacked, as dockerd's overlay2 measures them (its DiffSize; see
  // images/tar_size_counter.h). nullopt for rows written before schema version 4.
  std::optional<int64_t> unpacked_size;

  // What imaged reports as the layer's size: unpacked_size, else the uncompressed tar size.
  int64_t diff_size() const { return unpacked_size.value_or(uncompressed_size); }

  bool operator==(const LayerRecord&) const = default;
};

enum class ManifestKind { Manifest, Index };
inline std::string_view manifest_kind_name(ManifestKind kind) {
  return kind == ManifestKind::Index ? "index" : "manifest";
}

// A manifest or index blob an image was pulled through.
struct ManifestRecord {
  std::string digest;
  std::string media_type;
  int64_t size = 0;
  ManifestKind kind = ManifestKind::Manifest;
  std::string platform;  // "os/arch[/variant]" the manifest was chosen for; "" for an index

  bool operator==(const ManifestRecord&) const = default;
};

struct TagRecord {
  std::string repository;  // "docker.io/library/busybox"
  std::string tag;         // "musl"
  std::string image_id;
  int64_t tagged_ns = 0;

  bool operator==(const TagRecord&) const = default;
};

struct RepoDigestRecord {
  std::string repository;
  std::string digest;  // manifest or index digest
  std::string image_id;

  bool operator==(const RepoDigestRecord&) const = default;
};

// One change of a tag: creation (old empty), move (both set), removal (new empty).
struct TagMove {
  int64_t id = 0;  // increasing with time
  std::string repository;
  std::string tag;
  std::optional<std::string> old_image_id;
  std::optional<std::string> new_image_id;
  int64_t at_ns = 0;

  bool operator==(const TagMove&) const = default;
};

struct EventRecord {
  int64_t id = 0;  // assigned by append_event
  int64_t time_ns = 0;
  std::string type;    // "image"
  std::string action;  // "pull", "tag", "untag", "delete", ...
  std::string actor_id;
  std::string attributes_json = "{}";

  bool operator==(const EventRecord&) const = default;
};

enum class BlobKind { Config, Manifest, Layer };
inline std::string_view blob_kind_name(BlobKind kind) {
  switch (kind) {
    case BlobKind::Config:
      return "config";
    case BlobKind::Manifest:
      return "manifest";
    case BlobKind::Layer:
      return "layer";
  }
  return "layer";
}

// A content blob some image references; refs = how many images reference it (an image counts
// once however many times it lists the blob).
struct BlobRecord {
  std::string digest;
  int64_t size = 0;                 // bytes on disk
  int64_t uncompressed_size = 0;    // for layers; equals size for configs and manifests
  BlobKind kind = BlobKind::Layer;  // the role of the first image that brought it
  int64_t refs = 0;
  std::optional<int64_t> unpacked_size;  // layers: LayerRecord::unpacked_size, once known

  bool operator==(const BlobRecord&) const = default;
};

// Totals for `system df`, from indexed sums over the blobs table.
struct StoreUsage {
  int64_t image_count = 0;
  int64_t blob_count = 0;
  int64_t content_size = 0;              // bytes of all referenced blobs (what the store holds)
  int64_t layers_size = 0;               // compressed bytes of distinct layer blobs
  int64_t layers_uncompressed_size = 0;  // uncompressed bytes of distinct layer blobs
  int64_t layers_diff_size = 0;  // unpacked bytes of distinct layer blobs (dockerd's LayersSize)

  bool operator==(const StoreUsage&) const = default;
};

// What recompute_blob_refs changed.
struct RefRepair {
  int64_t refs_fixed = 0;             // blobs rows whose count was wrong
  int64_t rows_added = 0;             // referenced digests that had no blobs row
  std::vector<std::string> orphaned;  // rows removed because nothing references them

  bool operator==(const RefRepair&) const = default;
};

}  // namespace imaged::metadata
