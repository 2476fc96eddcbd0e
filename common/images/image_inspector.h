// GET /images/{name}/json and GET /images/{name}/history: the image row and its names from one
// read transaction, plus the config blob read from the content store.
//
// inspect: ImageDetail with RepoTags/RepoDigests familiar and sorted (as list), Created with
// nanoseconds from the config, the config's container config ("config") and legacy
// "container"/"container_config" as stored, RootFS diff IDs, LastTagTime.
// history (moby image_history.go): one row per config history entry, newest first; the top row
// carries the image ID and its tags (familiar; null when untagged), the others "<missing>" and
// null; Size = unpacked size (LayerRecord::diff_size(), dockerd's DiffSize) of the layer a
// non-empty entry created (matched in order to the image's layers), 0 for empty_layer entries.
// Errors: as lookup_image; NotFound when the image disappears meanwhile; DataLoss when the
// config blob is missing or does not parse; InvalidArgument "too many non-empty layers in History
// section" as dockerd.
#pragma once

#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"

namespace imaged::content {
class Provider;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class ImageIndexCache;

// `index`, when given, supplies the image's names if it is current (ImageIndexCache::peek);
// otherwise they are read from the covering index of the tags table.
Result<ImageDetail> inspect_image(metadata::MetadataStore& metadata, content::Provider& content,
                                  std::string_view name, ImageIndexCache* index = nullptr);

Result<std::vector<HistoryEntry>> image_history(metadata::MetadataStore& metadata,
                                                content::Provider& content, std::string_view name,
                                                ImageIndexCache* index = nullptr);

}  // namespace imaged::images
