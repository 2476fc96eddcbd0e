#include "common/metadata/metadata_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include "common/metadata/schema.h"

namespace imaged::metadata {

namespace {

Status run_sql(Connection& conn, const char* sql) {
  Statement st = IMAGED_TRY(conn.prepare(sql));
  return st.run();
}

// Runs a transaction body, turning an escaping exception into Errc::Internal.
template <class Tx>
Status run_body(const std::function<Status(Tx&)>& body, Tx& tx, std::string_view kind) {
  try {
    return body(tx);
  } catch (const std::exception& e) {
    return fail(Errc::Internal,
                std::string(kind) + " transaction aborted by an exception: " + e.what());
  } catch (...) {
    return fail(Errc::Internal, std::string(kind) + " transaction aborted by an exception");
  }
}

// fdatasync/fsync of a file or directory by path; Internal naming it on failure.
Status sync_path(const std::filesystem::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return fail(Errc::Internal, "open " + path.string() + ": " + std::strerror(errno));
  const int rc = directory ? ::fsync(fd) : ::fdatasync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return fail(Errc::Internal, "sync " + path.string() + ": " + std::strerror(err));
  return {};
}

// A new store is built aside and moved into place: the schema is written with synchronous=OFF
// into <db>.new.<pid>, synced once, and renamed to <db> unless another process created <db>
// meanwhile (RENAME_NOREPLACE; then ours is dropped). A crash leaves no <db> or a complete one
// (a leftover .new file is never opened; it is a few kilobytes). A first start thus pays two
// syncs instead of the rollback journal's and the WAL's eight.
Status create_fresh(const std::filesystem::path& db_path, const ConnectionOptions& copts) {
  const std::filesystem::path tmp = db_path.string() + ".new." + std::to_string(::getpid());
  auto remove_tmp = [&] {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      ::unlink((tmp.string() + suffix).c_str());
  };
  remove_tmp();
  {
    Connection conn = IMAGED_TRY(Connection::open(tmp, copts));
    IMAGED_TRY(conn.exec("PRAGMA synchronous = OFF"));
    auto mode = IMAGED_TRY(conn.query_text("PRAGMA journal_mode = WAL"));
    if (mode != "wal")
      return fail(Errc::Internal, "cannot switch " + tmp.string() + " to WAL (" + mode + ")");
    IMAGED_TRY(migrate(conn));
  }  // closing checkpoints the WAL into the file and removes it
  IMAGED_TRY(sync_path(tmp, false));
  if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, db_path.c_str(), RENAME_NOREPLACE) != 0) {
    const int err = errno;
    remove_tmp();
    if (err == EEXIST) return {};  // another process won: use its store
    return fail(Errc::Internal, "rename " + tmp.string() + ": " + std::strerror(err));
  }
  return sync_path(db_path.parent_path().empty() ? "." : db_path.parent_path(), true);
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::filesystem::path& db_path,
                                                           MetadataStoreOptions options) {
  auto ctx = [&](const Error& e) { return e.context("opening " + db_path.string()); };
  ConnectionOptions copts;
  copts.create = true;
  copts.busy_timeout_ms = options.busy_timeout_ms;
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec) && !ec) {
    if (Status st = create_fresh(db_path, copts); !st) return fail(ctx(st.error()));
  }
  auto writer = Connection::open(db_path, copts);
  if (!writer) return fail(ctx(writer.error()));

  // 1. A database from a newer imaged, or not ours, is refused before anything is written.
  if (Status st = check_schema(*writer); !st) return fail(ctx(st.error()));

  // 2. WAL: readers never block the writer nor the writer readers, and a commit is one
  //    sequential append to the -wal file. The mode is persistent in the file. Set before the
  //    migrations so that creating a fresh store is one WAL append rather than a rollback
  //    journal's four fsyncs.
  auto mode = writer->query_text("PRAGMA journal_mode = WAL");
  if (!mode) return fail(ctx(mode.error()));
  if (*mode != "wal") {
    return fail(Errc::Internal, "opening " + db_path.string() +
                                    ": cannot switch to WAL (journal_mode is " + *mode + ")");
  }
  // 3. synchronous=NORMAL: in WAL mode a commit appends to the WAL without fsync; the WAL is
  //    synced at checkpoints. A power loss can therefore lose the last few commits but never
  //    corrupts the database (the WAL's frame checksums discard a torn tail). Losing a commit
  //    is safe for the store's invariant ("no row references an uncommitted blob") because
  //    blobs are committed to disk before the rows that reference them, so a lost commit only
  //    leaves unreferenced blobs that GC sweeps. The one case where a lost commit would hurt
  //    (rows deleted, then their blob files unlinked, then the deletion rolled back by a power
  //    loss) is closed by write(): a transaction that removed blob rows syncs the WAL before
  //    returning (see WriteTx::delete_image).
  if (Status st = writer->exec("PRAGMA synchronous = NORMAL"); !st) return fail(ctx(st.error()));

  // 4. The schema.
  if (Status st = migrate(*writer); !st) return fail(ctx(st.error()));

  return std::unique_ptr<MetadataStore>(new MetadataStore(db_path, options, std::move(*writer)));
}

MetadataStore::MetadataStore(std::filesystem::path path, MetadataStoreOptions options,
                             Connection writer)
    : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

MetadataStore::~MetadataStore() = default;

Status MetadataStore::run_write(const std::function<Status(WriteTx&)>& body) {
  // A second write() on the thread that holds the write mutex would deadlock.
  if (write_owner_.load() == std::this_thread::get_id()) {
    return fail(Errc::FailedPrecondition,
                "nested write transaction on one thread (finish the outer one first)");
  }
  std::lock_guard lock(write_mu_);
  write_owner_.store(std::this_thread::get_id());
  struct OwnerReset {
    std::atomic<std::thread::id>& owner;
    ~OwnerReset() { owner.store(std::thread::id()); }
  } reset{write_owner_};

  // IMMEDIATE takes the write lock now, so the body never fails half-way with SQLITE_BUSY
  // (a deferred transaction upgrading from read to write cannot wait for the lock).
  IMAGED_TRY(run_sql(writer_, "BEGIN IMMEDIATE"));
  WriteTx tx(writer_);
  Status result = run_body(body, tx, "write");
  if (result) {
    if (writer_.autocommit()) {
      result = fail(Errc::Internal, "the write transaction was rolled back by SQLite");
    } else {
      result = run_sql(writer_, "COMMIT");
      // Blob rows were removed: make the commit durable before the caller unlinks the files.
      if (result && tx.sync_on_commit_) result = writer_.sync_journal();
    }
  }
  if (!result && !writer_.autocommit()) (void)run_sql(writer_, "ROLLBACK");
  return result;
}

Status MetadataStore::run_read(const std::function<Status(ReadTx&)>& body) {
  Connection conn = IMAGED_TRY(acquire_reader());
  // Deferred: the snapshot is taken at the first read and holds until COMMIT.
  IMAGED_TRY(run_sql(conn, "BEGIN"));
  Status result;
  {
    ReadTx tx(conn);
    result = run_body(body, tx, "read");
  }
  Status ended = run_sql(conn, result ? "COMMIT" : "ROLLBACK");
  if (result && !ended) result = ended;
  // A connection stuck in a transaction is not reused.
  if (conn.autocommit()) release_reader(std::move(conn));
  return result;
}

Result<Connection> MetadataStore::acquire_reader() {
  {
    std::lock_guard lock(readers_mu_);
    if (!idle_readers_.empty()) {
      Connection conn = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return conn;
    }
  }
  ConnectionOptions copts;
  copts.create = false;
  copts.query_only = true;
  copts.busy_timeout_ms = options_.busy_timeout_ms;
  auto conn = Connection::open(path_, copts);
  if (!conn) return fail(conn.error().context("opening a read connection"));
  return std::move(*conn);
}

void MetadataStore::release_reader(Connection conn) {
  std::lock_guard lock(readers_mu_);
  if (idle_readers_.size() < options_.max_idle_readers) idle_readers_.push_back(std::move(conn));
  // Otherwise conn is closed on return, after the lock is released.
}

Status MetadataStore::check_integrity() {
  return read([](ReadTx& tx) { return tx.check_integrity(); });
}

Result<RefRepair> MetadataStore::repair_blob_refs() {
  return write([](WriteTx& tx) { return tx.recompute_blob_refs(); });
}

}  // namespace imaged::metadata
