// The start-up check of a data root: run once, before the daemon serves, while nothing else
// writes to the store.
//
// 1. The metadata passes its integrity check (SQLite quick_check, foreign keys, blob reference
//    counts) — otherwise Errc::DataLoss and the daemon refuses to start rather than serve wrong
//    data.
// 2. Every blob a row references is committed in the content store with its recorded size —
//    otherwise DataLoss naming the blob (the invariant "no row references an uncommitted blob"
//    is broken).
// 3. Partial downloads (ingests) not touched for `ingest_ttl` are removed.
// 4. Blobs no row references are removed once older than `orphan_ttl`. Younger ones are the
//    finished layers of a pull that was interrupted before its metadata commit: keeping them for
//    a while lets the next pull of the same image resume instead of downloading them again.
//
// Thread safety: none needed; the caller guarantees exclusive use of the stores.
#pragma once

#include <chrono>
#include <cstdint>

#include "common/error.h"

namespace imaged::content {
class LocalStore;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class BlobSweeper;

struct StoreCheckOptions {
  std::chrono::seconds ingest_ttl{std::chrono::hours(24)};
  std::chrono::seconds orphan_ttl{std::chrono::hours(24)};
};

struct StoreCheckReport {
  int64_t referenced_blobs = 0;
  int64_t stale_ingests_removed = 0;
  int64_t orphan_blobs_removed = 0;
  int64_t orphan_blobs_kept = 0;  // unreferenced but younger than orphan_ttl
};

Result<StoreCheckReport> check_store(content::LocalStore& content,
                                     metadata::MetadataStore& metadata, BlobSweeper& sweeper,
                                     const StoreCheckOptions& options = {});

}  // namespace imaged::images
