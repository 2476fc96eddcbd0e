// A docker schema2 manifest for an image that has no stored one (an image loaded from a legacy
// docker-archive, whose layers are uncompressed tars): config + layers as recorded.
#pragma once

#include <string>
#include <vector>

#include "common/metadata/records.h"

namespace imaged::images {

// The manifest JSON (3-space indentation as distribution writes it): mediaType
// application/vnd.docker.distribution.manifest.v2+json, the config with the image's config
// media type (docker's by default), and the layers in order with their media types and sizes.
std::string synthesize_docker_manifest(const metadata::ImageRecord& image,
                                       const std::vector<metadata::LayerRecord>& layers);

}  // namespace imaged::images
