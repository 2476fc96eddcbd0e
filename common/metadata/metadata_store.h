// MetadataStore: meta.db, the truth about image names, layers and blob references (SQLite).
//
// Usage:
//   auto store = IMAGED_TRY(MetadataStore::open(root / "meta.db"));
//   bool added = IMAGED_TRY(store->write([&](WriteTx& tx) -> Result<bool> {
//     auto added = IMAGED_TRY(tx.put_image(image, layers, manifests));
//     IMAGED_TRY(tx.set_tag("docker.io/library/busybox", "musl", image.id, now));
//     return added;
//   }));
//   auto tags = IMAGED_TRY(store->read([](ReadTx& tx) { return tx.list_tags(); }));
//
// Transactions: write(fn) runs fn in BEGIN IMMEDIATE and commits when fn returns a value;
// it rolls back when fn returns an error (which write returns) or throws (write returns
// Errc::Internal; no exception escapes). read(fn) runs fn in a deferred read transaction: one
// consistent snapshot of committed data. Batch: one pull = one write call.
//
// Thread safety: all methods may be called from any number of threads. Writes are serialised on
// one connection behind a mutex; reads use a pool of read-only connections and run concurrently
// with each other and with the writer (WAL). A write callback must not call write() again on
// the same thread (Errc::FailedPrecondition); it may call read(), which sees only committed data.
// Blocking: write() waits for the write mutex; SQLite waits up to busy_timeout_ms for locks held
// by other processes before Errc::Unavailable. Never call from an I/O thread.
//
// Creation and durability: a new meta.db costs no DDL and no sync. open() writes the built-in
// schema image (schema_image.h) aside and renames it into place (a crash leaves no file or a
// complete one) next to an empty marker file meta.db.unsynced, created before the rename. The
// first write() of a store that was opened with the marker present (or created) then, before
// its BEGIN, fdatasyncs meta.db, removes the marker and fsyncs the directory. Hence:
//   - marker absent ⇒ meta.db's bytes and name are durable (the removal follows the fdatasync
//     and is itself made durable before any commit);
//   - marker present ⇒ no write() ever committed: the file holds only the empty schema.
// A power loss before that first write may leave meta.db missing (open() creates it again),
// empty (open() migrates it in place) or torn. A database opened with the marker present is
// therefore verified (quick_check) unless this open() just built it, and when it cannot be
// read (DataLoss) it is set aside as meta.db.unreadable-<ns> (with its -wal) and created again,
// which loses nothing; set_aside() names it, for the caller to log. Without the marker an
// unreadable database is refused (DataLoss) as before. Creation and setting aside hold an
// flock on the directory, so concurrent openers never race on the file and its marker. (The
// marker precedes meta.db on filesystems that keep directory updates in order, as ext4 and
// XFS do; where one does not, a torn meta.db without marker is refused rather than lost.)
//
// Lifetime: owned by the composition root; every read/write must have returned before it is
// destroyed.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "common/metadata/records.h"
#include "common/metadata/sqlite.h"
#include "common/metadata/transaction.h"

namespace imaged::metadata {

// The file name of the store inside the data root.
inline constexpr const char* kMetaDbName = "meta.db";
// Appended to the database's path: the marker of a database never synced (see above).
inline constexpr std::string_view kUnsyncedSuffix = ".unsynced";

struct MetadataStoreOptions {
  int busy_timeout_ms = 5000;
  // Read connections kept open when idle. More concurrent readers than this still proceed
  // (an extra connection is opened and closed), so read() never waits for a free connection.
  std::size_t max_idle_readers = 4;
};

template <class R>
concept TxResult = requires {
  typename R::value_type;
  typename R::error_type;
}
&&std::same_as<typename R::error_type, Error>&& std::same_as<R, Result<typename R::value_type>>;

class MetadataStore {
 public:
  // Opens or creates the database file, migrates it to kSchemaVersion (see schema.h) and sets
  // it up: WAL, foreign keys, busy timeout, synchronous=NORMAL. A never-synced database that
  // cannot be read is set aside and created again (see "Creation and durability").
  // FailedPrecondition for a database newer than this build or not ours; DataLoss for a file
  // that is not a database; Internal when the file cannot be opened.
  static Result<std::unique_ptr<MetadataStore>> open(const std::filesystem::path& db_path,
                                                     MetadataStoreOptions options = {});
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // write<T>(fn) and read<T>(fn) with an explicit std::function, as well as write(lambda) and
  // read(lambda) deducing T from the lambda's Result<T> return type.
  template <class T>
  Result<T> write(const std::function<Result<T>(WriteTx&)>& fn) {
    return write_impl(fn);
  }
  template <class F>
  requires std::invocable<F&, WriteTx&> && TxResult<std::invoke_result_t<F&, WriteTx&>>
      std::invoke_result_t<F&, WriteTx&> write(F&& fn) {
    return write_impl(fn);
  }

  template <class T>
  Result<T> read(const std::function<Result<T>(ReadTx&)>& fn) {
    return read_impl(fn);
  }
  template <class F>
  requires std::invocable<F&, ReadTx&> && TxResult<std::invoke_result_t<F&, ReadTx&>>
      std::invoke_result_t<F&, ReadTx&> read(F&& fn) {
    return read_impl(fn);
  }

  // ReadTx::check_integrity in a read transaction.
  Status check_integrity();
  // WriteTx::recompute_blob_refs in a write transaction.
  Result<RefRepair> repair_blob_refs();

  const std::filesystem::path& path() const { return path_; }
  // Where open() moved an unreadable never-synced database before creating this one.
  const std::optional<std::filesystem::path>& set_aside() const { return set_aside_; }

 private:
  MetadataStore(std::filesystem::path path, MetadataStoreOptions options, Connection writer,
                bool unsynced, std::optional<std::filesystem::path> set_aside);

  // Before the first write of a never-synced database: fdatasync it, remove the marker, fsync
  // the directory. A no-op afterwards; a failure is retried by the next write. Holds write_mu_.
  Status make_durable();

  Status run_write(const std::function<Status(WriteTx&)>& body);
  Status run_read(const std::function<Status(ReadTx&)>& body);

  template <class F>
  auto write_impl(F& fn) -> std::invoke_result_t<F&, WriteTx&> {
    std::optional<std::invoke_result_t<F&, WriteTx&>> out;
    Status st = run_write([&](WriteTx& tx) -> Status {
      out.emplace(std::invoke(fn, tx));
      if (!out->has_value()) return fail(out->error());
      return {};
    });
    if (!st) return fail(std::move(st.error()));
    return std::move(*out);
  }

  template <class F>
  auto read_impl(F& fn) -> std::invoke_result_t<F&, ReadTx&> {
    std::optional<std::invoke_result_t<F&, ReadTx&>> out;
    Status st = run_read([&](ReadTx& tx) -> Status {
      out.emplace(std::invoke(fn, tx));
      if (!out->has_value()) return fail(out->error());
      return {};
    });
    if (!st) return fail(std::move(st.error()));
    return std::move(*out);
  }

  Result<Connection> acquire_reader();
  void release_reader(Connection conn);

  const std::filesystem::path path_;
  const MetadataStoreOptions options_;
  const std::optional<std::filesystem::path> set_aside_;

  std::mutex write_mu_;
  Connection writer_;  // guarded by write_mu_
  bool unsynced_;      // guarded by write_mu_; see make_durable
  std::atomic<std::thread::id> write_owner_{};

  std::mutex readers_mu_;
  std::vector<Connection> idle_readers_;  // guarded by readers_mu_
};

}  // namespace imaged::metadata
