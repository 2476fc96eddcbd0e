#include "common/images/image_records.h"

#include <nlohmann/json.hpp>

#include "common/content/content.h"
#include "common/images/timestamps.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

metadata::ImageRecord image_record(const Digest& id, const oci::ImageConfig& config,
                                   std::string config_media_type, int64_t config_size,
                                   int64_t added_ns) {
  metadata::ImageRecord image;
  image.id = id.str();
  if (auto created = parse_rfc3339_ns(config.created)) image.created_ns = *created;
  image.os = config.os;
  image.architecture = config.architecture;
  image.variant = config.variant;
  image.author = config.author;
  image.docker_version = config.docker_version;
  image.comment = config.comment;
  nlohmann::json labels = nlohmann::json::object();
  if (auto it = config.config.find("Labels"); it != config.config.end() && it->is_object())
    labels = *it;
  image.labels_json = labels.dump();
  image.config_media_type = std::move(config_media_type);
  image.config_size = config_size;
  image.added_ns = added_ns;
  return image;
}

std::string platform_text(const oci::ImageConfig& config) {
  return config.os + "/" + config.architecture +
         (config.variant.empty() ? "" : "/" + config.variant);
}

void remove_unreferenced(content::Store& content, metadata::MetadataStore& metadata,
                         const std::vector<Digest>& blobs) {
  for (const Digest& d : blobs) {
    auto referenced =
        metadata.read([&](metadata::ReadTx& tx) { return tx.is_blob_referenced(d.str()); });
    if (referenced && !*referenced) (void)content.remove(d);
  }
}

}  // namespace imaged::images
