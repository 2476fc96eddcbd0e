// Read access to the bytes a LocalStore ingest holds so far, so that a resumed layer download can
// rebuild its diff_id state (LayerDigester::replay). The content interfaces have no reader for
// partial ingests; this relies on LocalStore's documented layout (local_store.h):
// <root>/ingest/<sha256 hex of the ref>/data. Open it right after Ingester::writer() resumed the
// ref: the first Writer::offset() bytes of the file are then stable (the Writer appends only).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/content/content.h"
#include "common/error.h"

namespace imaged::images {

// NotFound when the store has no ingest for `ref`; Internal on other I/O errors. The ReaderAt is
// safe for concurrent use (pread).
Result<std::unique_ptr<content::ReaderAt>> open_ingest_data(const std::filesystem::path& store_root,
                                                            const std::string& ref);

}  // namespace imaged::images
