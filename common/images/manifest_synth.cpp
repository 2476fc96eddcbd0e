#include "common/images/manifest_synth.h"

#include <nlohmann/json.hpp>

#include "common/oci.h"

namespace imaged::images {

std::string synthesize_docker_manifest(const metadata::ImageRecord& image,
                                       const std::vector<metadata::LayerRecord>& layers) {
  nlohmann::ordered_json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = std::string(oci::kDockerManifest);
  nlohmann::ordered_json config;
  config["mediaType"] =
      image.config_media_type.empty() ? std::string(oci::kDockerConfig) : image.config_media_type;
  config["size"] = image.config_size;
  config["digest"] = image.id;
  m["config"] = config;
  nlohmann::ordered_json ls = nlohmann::ordered_json::array();
  for (const auto& l : layers) {
    nlohmann::ordered_json d;
    d["mediaType"] = l.media_type.empty() ? std::string(oci::kDockerLayer) : l.media_type;
    d["size"] = l.size;
    d["digest"] = l.digest;
    ls.push_back(d);
  }
  m["layers"] = ls;
  return m.dump(3);
}

}  // namespace imaged::images
