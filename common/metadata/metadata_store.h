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
  // it up: WAL, foreign keys, busy timeout, synchronous=NORMAL.
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

 private:
  MetadataStore(std::filesystem::path path, MetadataStoreOptions options, Connection writer);

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

  std::mutex write_mu_;
  Connection writer_;  // guarded by write_mu_
  std::atomic<std::thread::id> write_owner_{};

  std::mutex readers_mu_;
  std::vector<Connection> idle_readers_;  // guarded by readers_mu_
};

}  // namespace imaged::metadata
