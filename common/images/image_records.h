// The metadata rows of an image, built from its parsed config: shared by the puller, the loader
// and the importer so that every way into the store records an image the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/metadata/records.h"
#include "common/oci.h"

namespace imaged::content {
class Store;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

// The image row for config `config` stored as blob `id` (config_size bytes, config_media_type):
// created (0 when absent or unparsable), platform, author, docker_version, comment, Labels (as a
// JSON object, {} when absent), added_ns. Derived columns are left for put_image.
metadata::ImageRecord image_record(const Digest& id, const oci::ImageConfig& config,
                                   std::string config_media_type, int64_t config_size,
                                   int64_t added_ns);

// "os/arch[/variant]" of a config, as manifest rows record their platform.
std::string platform_text(const oci::ImageConfig& config);

// Undoes a failed load or import: removes those of `blobs` (committed by it) that no row
// references. Errors are ignored (an unreferenced blob left behind is swept later).
void remove_unreferenced(content::Store& content, metadata::MetadataStore& metadata,
                         const std::vector<Digest>& blobs);

}  // namespace imaged::images
