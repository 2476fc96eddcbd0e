#include "common/images/store_check.h"

#include <string>
#include <unordered_set>
#include <vector>

#include "common/content/local_store.h"
#include "common/images/blob_sweeper.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

namespace {

Error refuse(const std::filesystem::path& root, const Error& why) {
  return Error{Errc::DataLoss,
               "the image store at " + root.string() +
                   " failed its integrity check, refusing to start: " + why.message};
}

}  // namespace

Result<StoreCheckReport> check_store(content::LocalStore& content,
                                     metadata::MetadataStore& metadata, BlobSweeper& sweeper,
                                     const StoreCheckOptions& options) {
  StoreCheckReport report;

  // 1. The metadata is sound.
  if (auto st = metadata.check_integrity(); !st) return fail(refuse(content.root(), st.error()));

  // 2. Every referenced blob is committed, with the size the rows recorded.
  auto blobs = IMAGED_TRY(metadata.read([](metadata::ReadTx& tx) { return tx.list_blobs(); }));
  std::unordered_set<std::string> referenced;
  for (const auto& blob : blobs) {
    auto digest = Digest::parse(blob.digest);
    if (!digest) return fail(refuse(content.root(), digest.error().context(blob.digest)));
    auto info = content.info(*digest);
    if (!info)
      return fail(refuse(
          content.root(),
          Error{Errc::DataLoss, "blob " + blob.digest + " is referenced by an image but missing"}));
    if (info->size != blob.size)
      return fail(refuse(
          content.root(),
          Error{Errc::DataLoss, "blob " + blob.digest + " has " + std::to_string(info->size) +
                                    " bytes, the store recorded " + std::to_string(blob.size)}));
    referenced.insert(blob.digest);
  }
  report.referenced_blobs = static_cast<int64_t>(referenced.size());

  // 3. Stale partial downloads.
  report.stale_ingests_removed = IMAGED_TRY(content.remove_stale_ingests(options.ingest_ttl));

  // 4. Unreferenced blobs past their grace period; the sweeper re-checks each against the rows.
  const auto cutoff = content::Clock::now() - options.orphan_ttl;
  std::vector<std::string> expired;
  IMAGED_TRY(content.walk([&](const content::Info& info) {
    if (referenced.contains(info.digest.str())) return;
    if (info.committed_at <= cutoff)
      expired.push_back(info.digest.str());
    else
      ++report.orphan_blobs_kept;
  }));
  report.orphan_blobs_removed = IMAGED_TRY(sweeper.sweep(expired));
  return report;
}

}  // namespace imaged::images
