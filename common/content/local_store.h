// LocalStore: the content store on a local filesystem (after containerd's plugins/content/local).
//
// Layout under the root:
//   blobs/sha256/<hex>   committed blobs: verified, read-only (0444), mtime = commit time
//   ingest/<key>/        one in-progress ingest per ref (key = sha256 hex of the ref string):
//                        ref, total, startedat, data (see local_ingest.h)
// A commit is: flush → size and digest check → chmod 0444 → fsync data → rename into blobs/
// (RENAME_NOREPLACE) → fsync blobs/sha256 → (first commit of a LocalStore only) fsync blobs/,
// the root and its parent → remove the ingest. A crash at any instant leaves a store that opens,
// and blobs/ never holds a file whose bytes do not hash to its name: files only arrive there by
// an atomic rename of fsynced, verified data. open() creates directories without fsync: until
// the first commit returns, a power loss may lose them, which loses no blob (none is committed
// yet) and open() makes them again.
//
// Thread safety: every method may be called concurrently from any number of threads. Several
// processes may share one root: a ref is held by at most one Writer across all of them (a lock
// table in this process, an flock on the ingest directory across processes). A Writer is driven
// by one thread at a time. Writers and ReaderAts may outlive the LocalStore that made them.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/content/content.h"

namespace spdlog {
class logger;
}

namespace imaged::content {

namespace local {
class StoreState;
}

struct LocalStoreOptions {
  // Source of committed_at, started_at, updated_at and of "now" for remove_stale_ingests.
  // Default: system_clock::now. Tests pass a fake clock. Called from any thread.
  std::function<Clock::time_point()> clock;
  // For warnings about best-effort cleanups that failed. Default: spdlog's default logger.
  std::shared_ptr<spdlog::logger> logger;
  // false skips every fsync: commits stay atomic if the process dies (rename is), but a power
  // loss may lose recent commits or leave torn blobs. Only for tests and throwaway stores.
  bool sync = true;
};

class LocalStore final : public Store {
 public:
  // Opens the store at `root`, creating the directories that are missing (not synced: see the
  // commit above). Does not scan or repair anything: partial ingests stay for resume (see
  // remove_stale_ingests).
  // Internal (or ResourceExhausted, disk full) if the directories cannot be created or opened.
  static Result<std::unique_ptr<LocalStore>> open(const std::filesystem::path& root,
                                                  LocalStoreOptions options = {});
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  // Provider. Readers use pread and are safe for concurrent use; a reader opened before remove()
  // keeps reading the removed blob.
  Result<std::unique_ptr<ReaderAt>> open(const Digest& digest) override;
  Result<Info> info(const Digest& digest) override;

  // Ingester.
  Result<std::unique_ptr<Writer>> writer(const std::string& ref, int64_t expected_total) override;

  // Manager. remove() is not fsynced: a removal undone by a crash leaves an unreferenced blob,
  // which is garbage for the sweep above this layer.
  Status remove(const Digest& digest) override;
  Status walk(const std::function<void(const Info&)>& fn) override;
  Result<std::vector<IngestStatus>> ingests() override;
  Status abort(const std::string& ref) override;

  // Where the blob's file is (or would be), for zero-copy sends (sendfile). The file may be
  // removed at any time; open it and use the fd rather than trusting the path twice.
  std::filesystem::path path_of(const Digest& digest) const;
  const std::filesystem::path& root() const;

  // Deletes the ingests not updated for `ttl` (updated_at + ttl <= now), skipping those a Writer
  // holds, plus temporary directories left by a crash while an ingest was being created.
  // Returns how many ingest directories were removed.
  Result<int> remove_stale_ingests(std::chrono::seconds ttl);

 private:
  explicit LocalStore(std::shared_ptr<local::StoreState> state);
  std::shared_ptr<local::StoreState> state_;
};

}  // namespace imaged::content
