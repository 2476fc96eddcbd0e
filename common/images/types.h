// Value types of the image service: what the API layer receives and returns. Plain data, no
// behaviour; JSON shaping per API version is api/'s business.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/digest.h"

namespace imaged::images {

// One image as listed by GET /images/json and GET /system/df.
struct ImageSummary {
  Digest id;                              // config digest = image ID
  std::vector<std::string> repo_tags;     // familiar form, sorted ("busybox:musl")
  std::vector<std::string> repo_digests;  // familiar form ("busybox@sha256:...")
  int64_t created = 0;                    // unix seconds, from the config
  int64_t size = 0;                       // sum of unpacked layer sizes (dockerd's Size)
  int64_t shared_size = -1;               // bytes of layers shared with other images; -1 unknown
  nlohmann::json labels;                  // null or object
  int containers = 0;                     // imaged runs no containers yet
};

// Filters of GET /images/json (already validated by the API layer).
struct ListOptions {
  bool all = false;
  std::optional<bool> dangling;
  std::vector<std::string> references;  // globs on the familiar name; OR between values
  std::vector<std::string> labels;      // "k" or "k=v"; AND between values
  std::vector<std::string> label_not;   // "label!" filter
  std::optional<std::string> before;    // image reference
  std::optional<std::string> since;     // image reference
  std::optional<std::chrono::system_clock::time_point> until;
  bool shared_size = false;
};

// GET /images/{name}/json, before version shaping.
struct ImageDetail {
  ImageSummary summary;
  std::string parent;
  std::string comment;
  std::string author;
  std::string docker_version;
  int64_t created_ns = 0;  // for RFC 3339 with nanoseconds; kZeroTimeNs when unknown
  std::string os;
  std::string architecture;
  std::string variant;
  std::string os_version;
  nlohmann::json config;                  // the config's "config" object (container config)
  nlohmann::json container_config;        // legacy field, if the config has it
  std::string container;                  // legacy field
  std::vector<std::string> diff_ids;      // RootFS.Layers
  std::optional<int64_t> last_tag_ns;     // Metadata.LastTagTime; nullopt = never tagged
  std::optional<Digest> manifest_digest;  // a manifest the image was pulled or loaded through
};

// One row of GET /images/{name}/history, newest first.
struct HistoryEntry {
  std::string id;  // image ID on the top row, "<missing>" below
  int64_t created = 0;
  std::string created_by;
  std::optional<std::vector<std::string>> tags;  // familiar refs on the top row; null otherwise
  int64_t size = 0;
  std::string comment;
};

// One item of a DELETE /images or prune response, in order.
struct DeleteItem {
  enum class Kind { Untagged, Deleted } kind;
  std::string ref;  // familiar ref for Untagged; "sha256:..." for Deleted
};

struct PruneOptions {
  bool dangling_only = true;  // filters dangling=true (default) or false (all unused)
  std::optional<std::chrono::system_clock::time_point> until;
  std::vector<std::string> labels;
  std::vector<std::string> label_not;
};

struct PruneReport {
  std::vector<DeleteItem> deleted;
  int64_t space_reclaimed = 0;
};

struct DiskUsage {
  int64_t layers_size = 0;  // unpacked bytes of all layer blobs, each counted once
  std::vector<ImageSummary> images;
};

// One event of GET /events, as persisted.
struct Event {
  int64_t id = 0;  // position in the log (increasing); 0 before it is appended
  int64_t time_ns = 0;
  std::string type = "image";
  std::string action;  // pull, push, tag, untag, delete, save, load, prune, import
  std::string actor_id;
  std::map<std::string, std::string> attributes;
};

// One progress message of a pull/push/load stream, in dockerd's JSON-message terms. dockerd
// writes two kinds of lines: plain messages {"status","id"?} ("Pulling from library/busybox",
// "Digest: sha256:...", "Status: ...") and progress updates {"status","progressDetail":{...},
// "progress"?,"id"} (per-layer statuses, with current/total while bytes move).
struct Progress {
  std::string id;      // short layer id, tag, or empty
  std::string status;  // "Pulling fs layer", "Downloading", "Digest: sha256:..."
  std::optional<int64_t> current;
  std::optional<int64_t> total;
  bool message = false;  // a plain message: no progressDetail
};

}  // namespace imaged::images
