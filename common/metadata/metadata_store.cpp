#include "common/metadata/metadata_store.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <utility>

#include "common/metadata/schema.h"
#include "common/metadata/schema_image.h"

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

std::filesystem::path dir_of(const std::filesystem::path& db_path) {
  return db_path.parent_path().empty() ? "." : db_path.parent_path();
}

std::filesystem::path with_suffix(const std::filesystem::path& path, std::string_view suffix) {
  return path.string() + std::string(suffix);
}

bool file_exists(const std::filesystem::path& path) { return ::access(path.c_str(), F_OK) == 0; }

Error errno_error(const std::string& what) {
  return Error{Errc::Internal, what + ": " + std::strerror(errno)};
}

// flock(LOCK_EX) on the database's directory, held while meta.db is created or set aside, so
// that two processes never race on the file and its marker.
class DirLock {
 public:
  static Result<DirLock> acquire(const std::filesystem::path& dir) {
    DirLock lock(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (lock.fd_ < 0) return fail(errno_error("open " + dir.string()));
    while (::flock(lock.fd_, LOCK_EX) != 0)
      if (errno != EINTR) return fail(errno_error("lock " + dir.string()));
    return lock;
  }
  DirLock(DirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the lock
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

// Writes `bytes` into a new file `path` (replacing a leftover), without syncing it.
Status write_new_file(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(errno_error("create " + path.string()));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error error = errno_error("write " + path.string());
      ::close(fd);
      return fail(std::move(error));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return {};
}

// Puts a new store in place without any sync (the first write makes it durable, see the
// header): the fresh schema image (schema_image.h) is written to <db>.new.<pid>, the marker
// <db>.unsynced is created, and the file is renamed to <db>. The caller holds the DirLock and
// has seen no <db>. A crash leaves no <db> or a complete one (a leftover .new file is never
// opened); a power loss may also leave a torn one, which the marker (created first) lets open()
// set aside.
Status create_fresh(const std::filesystem::path& db_path) {
  const std::filesystem::path tmp = with_suffix(db_path, ".new." + std::to_string(::getpid()));
  const std::filesystem::path marker = with_suffix(db_path, kUnsyncedSuffix);
  Status st = write_new_file(tmp, fresh_schema_image());
  if (st) st = write_new_file(marker, {});
  if (st && ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, db_path.c_str(), RENAME_NOREPLACE) != 0)
    st = fail(errno_error("rename " + tmp.string()));
  if (!st) ::unlink(tmp.c_str());
  return st;
}

// Creates <db> unless it exists; true when this call created it.
Result<bool> ensure_exists(const std::filesystem::path& db_path) {
  if (file_exists(db_path)) return false;
  DirLock lock = IMAGED_TRY(DirLock::acquire(dir_of(db_path)));
  if (file_exists(db_path)) return false;  // another process created it meanwhile
  IMAGED_TRY(create_fresh(db_path));
  return true;
}

// Opens the writer connection and sets the database up (steps 1-4). With `verify`, first runs
// SQLite's quick_check: DataLoss when the file is torn.
Result<Connection> open_writer(const std::filesystem::path& db_path, const ConnectionOptions& copts,
                               bool verify) {
  Connection writer = IMAGED_TRY(Connection::open(db_path, copts));
  if (verify) {
    const std::string check = IMAGED_TRY(writer.query_text("PRAGMA quick_check"));
    if (check != "ok") return fail(Errc::DataLoss, "quick_check: " + check);
  }

  // 1. A database from a newer imaged, or not ours, is refused before anything is written.
  IMAGED_TRY(check_schema(writer));

  // 2. WAL: readers never block the writer nor the writer readers, and a commit is one
  //    sequential append to the -wal file. The mode is persistent in the file. Set before the
  //    migrations so that migrating is one WAL append rather than a rollback journal's fsyncs.
  const std::string mode = IMAGED_TRY(writer.query_text("PRAGMA journal_mode = WAL"));
  if (mode != "wal")
    return fail(Errc::Internal, "cannot switch to WAL (journal_mode is " + mode + ")");

  // 3. synchronous=NORMAL: in WAL mode a commit appends to the WAL without fsync; the WAL is
  //    synced at checkpoints. A power loss can therefore lose the last few commits but never
  //    corrupts the database (the WAL's frame checksums discard a torn tail). Losing a commit
  //    is safe for the store's invariant ("no row references an uncommitted blob") because
  //    blobs are committed to disk before the rows that reference them, so a lost commit only
  //    leaves unreferenced blobs that GC sweeps. The one case where a lost commit would hurt
  //    (rows deleted, then their blob files unlinked, then the deletion rolled back by a power
  //    loss) is closed by write(): a transaction that removed blob rows syncs the WAL before
  //    returning (see WriteTx::delete_image).
  IMAGED_TRY(writer.exec("PRAGMA synchronous = NORMAL"));

  // 4. The schema.
  IMAGED_TRY(migrate(writer));
  return writer;
}

struct Recovered {
  Connection writer;
  std::optional<std::filesystem::path> set_aside;
};

// An unreadable never-synced <db>: renames it (and its -wal) to <db>.unreadable-<ns>, drops its
// -shm and creates a fresh one. Under the DirLock it first looks again: a database another
// process recovered meanwhile is simply opened, another error is returned, and a database that
// lost its marker meanwhile (a first write synced it) is refused with `why`.
Result<Recovered> recover_unreadable(const std::filesystem::path& db_path,
                                     const ConnectionOptions& copts, const Error& why) {
  DirLock lock = IMAGED_TRY(DirLock::acquire(dir_of(db_path)));
  auto again = open_writer(db_path, copts, true);
  if (again) return Recovered{std::move(*again), {}};
  if (again.error().code != Errc::DataLoss) return fail(std::move(again.error()));
  if (!file_exists(with_suffix(db_path, kUnsyncedSuffix))) return fail(why);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::filesystem::path aside =
      with_suffix(db_path, ".unreadable-" + std::to_string(std::chrono::nanoseconds(now).count()));
  if (::rename(db_path.c_str(), aside.c_str()) != 0 && errno != ENOENT)
    return fail(errno_error("rename " + db_path.string()));
  const auto wal = with_suffix(db_path, "-wal");
  if (::rename(wal.c_str(), with_suffix(aside, "-wal").c_str()) != 0 && errno != ENOENT)
    return fail(errno_error("rename " + wal.string()));
  ::unlink(with_suffix(db_path, "-shm").c_str());
  IMAGED_TRY(create_fresh(db_path));
  Connection writer = IMAGED_TRY(open_writer(db_path, copts, false));
  return Recovered{std::move(writer), aside};
}

}  // namespace

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::filesystem::path& db_path,
                                                           MetadataStoreOptions options) {
  auto ctx = [&](const Error& e) { return e.context("opening " + db_path.string()); };
  ConnectionOptions copts;
  copts.create = true;
  copts.busy_timeout_ms = options.busy_timeout_ms;
  auto created = ensure_exists(db_path);
  if (!created) return fail(ctx(created.error()));
  // A database this process did not just build is verified while it is still unsynced: a
  // power loss may have torn it.
  const bool unsynced = *created || file_exists(with_suffix(db_path, kUnsyncedSuffix));
  auto writer = open_writer(db_path, copts, unsynced && !*created);
  std::optional<std::filesystem::path> set_aside;
  if (!writer && unsynced && writer.error().code == Errc::DataLoss) {
    auto recovered = recover_unreadable(db_path, copts, writer.error());
    if (!recovered) return fail(ctx(recovered.error()));
    writer = std::move(recovered->writer);
    set_aside = std::move(recovered->set_aside);
  }
  if (!writer) return fail(ctx(writer.error()));
  return std::unique_ptr<MetadataStore>(
      new MetadataStore(db_path, options, std::move(*writer), unsynced, std::move(set_aside)));
}

MetadataStore::MetadataStore(std::filesystem::path path, MetadataStoreOptions options,
                             Connection writer, bool unsynced,
                             std::optional<std::filesystem::path> set_aside)
    : path_(std::move(path)),
      options_(options),
      set_aside_(std::move(set_aside)),
      writer_(std::move(writer)),
      unsynced_(unsynced) {}

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

  IMAGED_TRY(make_durable());
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

Status MetadataStore::make_durable() {
  if (!unsynced_) return {};
  IMAGED_TRY(sync_path(path_, false));
  const auto marker = with_suffix(path_, kUnsyncedSuffix);
  if (::unlink(marker.c_str()) != 0 && errno != ENOENT)
    return fail(errno_error("remove " + marker.string()));
  IMAGED_TRY(sync_path(dir_of(path_), true));
  unsynced_ = false;
  return {};
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
