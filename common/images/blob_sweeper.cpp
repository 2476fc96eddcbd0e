#include "common/images/blob_sweeper.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <mutex>
#include <vector>

#include "common/content/content.h"
#include "common/digest.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

BlobSweeper::BlobSweeper(content::Manager& content, metadata::MetadataStore& metadata,
                         std::shared_ptr<spdlog::logger> logger)
    : content_(content),
      metadata_(metadata),
      logger_(logger ? std::move(logger) : spdlog::default_logger()) {}

Result<int64_t> BlobSweeper::sweep(std::span<const std::string> digests) {
  if (digests.empty()) return int64_t{0};
  std::unique_lock lock(mu_);
  // 1. Re-check under the lock: only digests that still have no row go.
  auto unreferenced =
      IMAGED_TRY(metadata_.read([&](metadata::ReadTx& tx) -> Result<std::vector<std::string>> {
        std::vector<std::string> out;
        for (const std::string& d : digests)
          if (!IMAGED_TRY(tx.is_blob_referenced(d))) out.push_back(d);
        return out;
      }));
  // 2. Unlink.
  int64_t removed = 0;
  for (const std::string& d : unreferenced) {
    auto digest = Digest::parse(d);
    if (!digest) continue;
    Status st = content_.remove(*digest);
    if (st) {
      ++removed;
    } else if (st.error().code != Errc::NotFound) {
      logger_->warn("could not remove unreferenced blob {}: {}", d, st.error().message);
    }
  }
  return removed;
}

Result<int64_t> BlobSweeper::sweep_unreferenced() {
  std::unique_lock lock(mu_);
  auto keep =
      IMAGED_TRY(metadata_.read([](metadata::ReadTx& tx) { return tx.referenced_blobs(); }));
  std::vector<Digest> garbage;
  IMAGED_TRY(content_.walk([&](const content::Info& info) {
    if (!std::binary_search(keep.begin(), keep.end(), info.digest.str()))
      garbage.push_back(info.digest);
  }));
  int64_t removed = 0;
  for (const Digest& d : garbage) {
    Status st = content_.remove(d);
    if (st) {
      ++removed;
    } else if (st.error().code != Errc::NotFound) {
      logger_->warn("could not remove unreferenced blob {}: {}", d.str(), st.error().message);
    }
  }
  if (removed > 0) logger_->info("removed {} unreferenced blob(s)", removed);
  return removed;
}

}  // namespace imaged::images
