// A real image store in a TempDir (content LocalStore + meta.db) and a helper that "imports" small
// synthetic images into it, as a pull would leave them: config, manifest and layer blobs written
// to the content store, then one metadata transaction with the image row, its layers and
// manifest, its tags and repo digests. Plus an ImageService and EventLog over the store.
//
// Layers are given by their bytes; the same bytes in two images make one shared blob. Each layer
// blob is treated as "compressed": its diff_id is sha256("diff:" + bytes) and its uncompressed
// size is given (default: 3 × the blob size), its unpacked size too (default: unknown, as in rows
// from before schema version 4). Tests only; throws std::runtime_error on set-up failures.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/content/local_store.h"
#include "common/images/event_log.h"
#include "common/images/image_service.h"
#include "common/metadata/metadata_store.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/registry_client.h"
#include "tests/support/temp_dir.h"

namespace imaged::testing {

struct LayerSpec {
  std::string bytes;
  int64_t uncompressed_size = -1;        // -1: 3 × bytes.size()
  std::optional<int64_t> unpacked_size;  // nullopt: unknown (sizes fall back to the tar's)
};

struct ImageSpec {
  std::vector<LayerSpec> layers;
  std::vector<std::string> tags;                 // as a user types them: "busybox:musl"
  std::vector<std::string> digest_repositories;  // repos that get repo@<manifest digest>
  // When true, every repository of `tags` also gets repo@<manifest digest> (as a pull does).
  bool digests_for_tags = true;
  std::map<std::string, std::string> labels;
  std::string created = "2024-01-01T00:00:00Z";  // "" leaves it out of the config
  std::string architecture = "amd64";
  std::string comment;
  std::string author;
  // History entries; default: one "ADD file:<n> in /" per layer then CMD ["sh"] (empty_layer).
  std::optional<nlohmann::json> history;
  // Extra top-level config fields (e.g. "container_config").
  nlohmann::json extra_config = nlohmann::json::object();
  std::string salt;  // changes the config (hence the image ID) only
};

struct ImportedImage {
  std::string id;               // "sha256:…" = config digest
  std::string manifest_digest;  // "sha256:…"
  std::vector<std::string> layer_digests;
  std::vector<std::string> diff_ids;
  std::vector<int64_t> uncompressed_sizes;
  int64_t size = 0;  // sum of the layers' diff_size() (unpacked, else uncompressed sizes)
  std::string config_json;
  std::string manifest_json;
  std::string short_id() const { return id.substr(7, 12); }
  std::string hex() const { return id.substr(7); }
  // The layers' chain IDs (what rmi reports as Deleted), bottom layer first.
  std::vector<std::string> chain_ids() const;
};

// Imports `spec` into the given stores (which may belong to a running daemon: both stores allow
// several processes). `now_ns` stamps added_ns and the tags.
ImportedImage import_image(content::LocalStore& content, metadata::MetadataStore& metadata,
                           const ImageSpec& spec, int64_t now_ns);

// The stores of an existing data root (e.g. a running daemon's), opened by the test process.
class ExternalStore {
 public:
  explicit ExternalStore(const std::filesystem::path& data_root);
  ~ExternalStore();
  ImportedImage import(const ImageSpec& spec);
  bool has_blob(const std::string& digest) const;
  content::LocalStore& content() { return *content_; }
  metadata::MetadataStore& metadata() { return *metadata_; }

 private:
  std::unique_ptr<content::LocalStore> content_;
  std::unique_ptr<metadata::MetadataStore> metadata_;
};

class StoreFixture {
 public:
  // `clock` drives the event log and the image service's timestamps (default: real time).
  explicit StoreFixture(std::function<std::chrono::system_clock::time_point()> clock = {});
  ~StoreFixture();

  content::LocalStore& content() { return *content_; }
  metadata::MetadataStore& metadata() { return *metadata_; }
  images::EventLog& events() { return *events_; }
  images::ImageService& service() { return *service_; }
  const std::filesystem::path& root() const { return root_; }

  ImportedImage import(const ImageSpec& spec);
  // Whether blobs/sha256/<hex> exists.
  bool has_blob(const std::string& digest) const;

 private:
  TempDir dir_;
  std::filesystem::path root_;
  std::unique_ptr<content::LocalStore> content_;
  std::unique_ptr<metadata::MetadataStore> metadata_;
  remotes::NoCredentials credentials_;
  std::unique_ptr<remotes::RegistryClient> registry_;
  std::unique_ptr<images::EventLog> events_;
  std::unique_ptr<images::ImageService> service_;
  std::function<std::chrono::system_clock::time_point()> clock_;
};

}  // namespace imaged::testing
