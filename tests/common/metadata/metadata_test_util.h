// Helpers shared by the metadata tests: a temporary directory and synthetic images whose
// digests are real sha256 values of made-up names.
#pragma once

#include <stdlib.h>
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/digest.h"
#include "common/metadata/metadata_store.h"
#include "common/metadata/records.h"

namespace imaged::metadata::testing {

// A fresh directory under $TMPDIR, removed with everything in it when the object goes away.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "imaged-meta-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path db() const { return path_ / kMetaDbName; }

 private:
  std::filesystem::path path_;
};

inline std::string digest_of(std::string_view name) { return Digest::of(name).str(); }

inline LayerRecord make_layer(std::string_view name, int64_t size) {
  return LayerRecord{digest_of("layer:" + std::string(name)),
                     digest_of("diff:" + std::string(name)), size, size * 3,
                     "application/vnd.oci.image.layer.v1.tar+gzip"};
}

inline ManifestRecord make_manifest(std::string_view name, int64_t size,
                                    ManifestKind kind = ManifestKind::Manifest) {
  return ManifestRecord{digest_of("manifest:" + std::string(name)),
                        kind == ManifestKind::Index ? "application/vnd.oci.image.index.v1+json"
                                                    : "application/vnd.oci.image.manifest.v1+json",
                        size, kind, kind == ManifestKind::Index ? "" : "linux/amd64"};
}

struct ImageSpec {
  ImageRecord image;
  std::vector<LayerRecord> layers;
  std::vector<ManifestRecord> manifests;
};

// An image named `name` (config digest = sha256("config:<name>")) with the given layers and one
// manifest of its own (sha256("manifest:<name>"), 500 bytes).
inline ImageSpec make_image(std::string_view name, std::vector<LayerRecord> layers,
                            int64_t created_ns = 1'000) {
  ImageSpec spec;
  spec.image.id = digest_of("config:" + std::string(name));
  spec.image.created_ns = created_ns;
  spec.image.os = "linux";
  spec.image.architecture = "amd64";
  spec.image.comment = "made for tests";
  spec.image.labels_json = R"({"name":")" + std::string(name) + R"("})";
  spec.image.config_media_type = "application/vnd.oci.image.config.v1+json";
  spec.image.config_size = 100;
  spec.image.added_ns = 5'000;
  spec.layers = std::move(layers);
  spec.manifests = {make_manifest(name, 500)};
  return spec;
}

inline std::unique_ptr<MetadataStore> open_store(const TempDir& dir,
                                                 MetadataStoreOptions options = {}) {
  auto store = MetadataStore::open(dir.db(), options);
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store);
  return std::move(*store);
}

inline Result<bool> put(MetadataStore& store, const ImageSpec& spec) {
  return store.write(
      [&](WriteTx& tx) { return tx.put_image(spec.image, spec.layers, spec.manifests); });
}

inline Result<std::optional<std::string>> tag(MetadataStore& store, std::string_view repo,
                                              std::string_view tag_name, std::string_view id,
                                              int64_t now = 10'000) {
  return store.write([&](WriteTx& tx) { return tx.set_tag(repo, tag_name, id, now); });
}

// REQUIREs success and returns the value (for terse tests).
template <class T>
T must(Result<T> result) {
  INFO((result ? std::string() : result.error().message));
  REQUIRE(result);
  return std::move(*result);
}
inline void must(Status status) {
  INFO((status ? std::string() : status.error().message));
  REQUIRE(status);
}

}  // namespace imaged::metadata::testing
