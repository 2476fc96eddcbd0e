// BlobSweeper: unlinks blob files once no metadata row references them — the only place that
// deletes from the content store for image work.
//
// Rule (DESIGN.md): a blob is unlinked only AFTER the metadata transaction that dropped its last
// reference has committed. A concurrent pull could otherwise re-reference a blob between that
// commit and the unlink (its file already exists, so its ingest is a no-op) and be left with a row
// whose file is gone. So:
//   - code that makes new references to blobs (pull, load) holds ingest_guard() across its last
//     check that every blob file it references exists (content info) and the metadata
//     transaction that references them, then releases it (keep it short: sweep() waits for it);
//     a blob found missing at that check is fetched again;
//   - sweep() takes the exclusive side, re-checks in a fresh read that each digest still has no
//     blobs row, and only then unlinks.
// The guard is in-process only; imaged is the one writer of its data root.
//
// Thread safety: all methods may be called concurrently. Lifetime: the stores must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>

#include "common/error.h"

namespace spdlog {
class logger;
}
namespace imaged::content {
class Manager;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class BlobSweeper {
 public:
  BlobSweeper(content::Manager& content, metadata::MetadataStore& metadata,
              std::shared_ptr<spdlog::logger> logger = nullptr);

  // Held (shared) by writers of new references; see above.
  std::shared_lock<std::shared_mutex> ingest_guard() { return std::shared_lock(mu_); }

  // Unlinks those of `digests` that no blobs row references (after commit!). Files already gone
  // are fine. Returns how many files were removed. Failures to unlink are logged and skipped
  // (the file is garbage; sweep_unreferenced() gets it later); store errors are returned.
  Result<int64_t> sweep(std::span<const std::string> digests);

  // Walks the whole content store and unlinks every blob without a row (startup GC, repair).
  Result<int64_t> sweep_unreferenced();

 private:
  content::Manager& content_;
  metadata::MetadataStore& metadata_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_mutex mu_;
};

}  // namespace imaged::images
