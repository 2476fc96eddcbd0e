// The data root on disk: created 0700 with blobs/ and ingest/ (the content store's layout), and
// the stable engine ID shown as Info.ID.
#pragma once

#include <filesystem>
#include <string>

#include "common/error.h"

namespace imaged::daemon {

// Creates root (0700; an existing root is tightened to 0700), root/blobs and root/ingest.
// Errors: PermissionDenied / Internal with the path.
Status prepare_data_root(const std::filesystem::path& root);

// Reads root/engine-id, or creates it with a random UUID (written atomically).
Result<std::string> load_engine_id(const std::filesystem::path& root);

}  // namespace imaged::daemon
