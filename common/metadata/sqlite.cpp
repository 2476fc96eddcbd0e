#include "common/metadata/sqlite.h"

#include <sqlite3.h>

#include <string>
#include <unordered_map>
#include <utility>

namespace imaged::metadata {

namespace {

Errc errc_of(int rc) {
  switch (rc & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Errc::Unavailable;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Errc::DataLoss;
    case SQLITE_CONSTRAINT:
      return Errc::Conflict;
    case SQLITE_FULL:
      return Errc::ResourceExhausted;
    default:
      return Errc::Internal;
  }
}

struct StmtDeleter {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// Transparent hashing: prepare() looks the SQL up as a string_view without building a string.
struct SqlHash {
  using is_transparent = void;
  size_t operator()(std::string_view sql) const noexcept {
    return std::hash<std::string_view>{}(sql);
  }
};

}  // namespace

Error sqlite_error(int rc, std::string_view message, std::string_view what) {
  std::string text(what);
  text += ": ";
  text += message.empty() ? std::string_view(sqlite3_errstr(rc)) : message;
  return Error{errc_of(rc), std::move(text)};
}

struct Connection::Impl {
  struct Slot {
    StmtPtr stmt;
    bool in_use = false;
  };

  sqlite3* db = nullptr;
  // Keyed by the SQL text. Slots are heap-allocated so that a lease's in_use pointer stays valid
  // while the map rehashes.
  std::unordered_map<std::string, std::unique_ptr<Slot>, SqlHash, std::equal_to<>> cache;

  ~Impl() {
    cache.clear();  // finalise every statement before closing
    if (db != nullptr) sqlite3_close_v2(db);
  }

  Error error(int rc, std::string_view what) const {
    return sqlite_error(rc, db != nullptr ? sqlite3_errmsg(db) : "", what);
  }

  Result<StmtPtr> compile(std::string_view sql) const {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return fail(error(rc, "preparing \"" + std::string(sql.substr(0, 80)) + "\""));
    }
    return StmtPtr(stmt);
  }
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::open(const std::filesystem::path& path,
                                    const ConnectionOptions& options) {
  auto impl = std::make_unique<Impl>();
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &impl->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    // sqlite3_open_v2 may hand out a handle even on failure; Impl's destructor closes it.
    Error err = impl->error(rc, "opening " + path.string());
    if ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_PERM) err.code = Errc::Internal;
    return fail(std::move(err));
  }
  sqlite3_extended_result_codes(impl->db, 1);
  sqlite3_busy_timeout(impl->db, options.busy_timeout_ms);
  Connection conn(std::move(impl));
  // foreign_keys is per connection and off by default; it is a no-op inside a transaction, so
  // it is set here, before anyone can open one.
  IMAGED_TRY(conn.exec("PRAGMA foreign_keys = ON"));
  if (options.query_only) IMAGED_TRY(conn.exec("PRAGMA query_only = ON"));
  // A page cache large enough that a big transaction (a pull, 10k tags) does not spill dirty
  // pages into the WAL before commit, and memory-mapped reads (no copy per page read).
  IMAGED_TRY(
      conn.exec("PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456; "
                "PRAGMA temp_store = MEMORY"));
  // Reading the schema catches "file is not a database" now rather than on first use.
  IMAGED_TRY(conn.query_int("SELECT count(*) FROM sqlite_schema"));
  return conn;
}

Status Connection::exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec needs a NUL-terminated string
  char* message = nullptr;
  int rc = sqlite3_exec(impl_->db, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string msg = message != nullptr ? message : "";
    sqlite3_free(message);
    return fail(sqlite_error(rc, msg, "executing \"" + text.substr(0, 80) + "\""));
  }
  return {};
}

Result<Statement> Connection::prepare(std::string_view sql) {
  auto it = impl_->cache.find(sql);
  if (it == impl_->cache.end()) {
    auto slot = std::make_unique<Impl::Slot>();
    slot->stmt = IMAGED_TRY(impl_->compile(sql));
    it = impl_->cache.emplace(std::string(sql), std::move(slot)).first;
  }
  Impl::Slot& slot = *it->second;
  if (!slot.in_use) {
    slot.in_use = true;
    return Statement(impl_.get(), slot.stmt.get(), &slot.in_use);
  }
  // The same SQL is already being stepped further up the stack: use a private copy.
  StmtPtr own = IMAGED_TRY(impl_->compile(sql));
  return Statement(impl_.get(), own.release(), nullptr);
}

Result<int64_t> Connection::query_int(std::string_view sql) {
  Statement st = IMAGED_TRY(prepare(sql));
  if (!IMAGED_TRY(st.step())) return fail(Errc::NotFound, "no row from " + std::string(sql));
  return st.int64(0);
}

Result<std::string> Connection::query_text(std::string_view sql) {
  Statement st = IMAGED_TRY(prepare(sql));
  if (!IMAGED_TRY(st.step())) return fail(Errc::NotFound, "no row from " + std::string(sql));
  return st.text(0);
}

int64_t Connection::changes() const { return sqlite3_changes64(impl_->db); }
int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(impl_->db); }
bool Connection::autocommit() const { return sqlite3_get_autocommit(impl_->db) != 0; }
sqlite3* Connection::raw() const { return impl_->db; }

Status Connection::sync_journal() {
  sqlite3_file* file = nullptr;
  int rc = sqlite3_file_control(impl_->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &file);
  if (rc != SQLITE_OK) return fail(impl_->error(rc, "locating the journal file"));
  // No journal open (nothing written yet, or a rollback journal already deleted): nothing to do.
  if (file == nullptr || file->pMethods == nullptr) return {};
  rc = file->pMethods->xSync(file, SQLITE_SYNC_NORMAL);
  if (rc != SQLITE_OK) return fail(sqlite_error(rc, "", "syncing the journal file"));
  return {};
}

// --- Statement ---

Statement::Statement(Connection::Impl* owner, sqlite3_stmt* stmt, bool* in_use)
    : owner_(owner), stmt_(stmt), in_use_(in_use) {}

Statement::Statement(Statement&& other) noexcept
    : owner_(other.owner_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_rc_(other.bind_rc_),
      bind_what_(std::move(other.bind_what_)) {}

Statement::~Statement() {
  if (stmt_ == nullptr) return;
  if (in_use_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  } else {
    sqlite3_finalize(stmt_);
  }
}

namespace {
void note_bind(int rc, int index, int& bind_rc, std::string& what) {
  if (rc != SQLITE_OK && bind_rc == SQLITE_OK) {
    bind_rc = rc;
    what = "binding parameter " + std::to_string(index);
  }
}
}  // namespace

Statement& Statement::bind(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, value), index, bind_rc_, bind_what_);
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  note_bind(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      index, bind_rc_, bind_what_);
  return *this;
}

Statement& Statement::bind(int index, std::nullopt_t) {
  note_bind(sqlite3_bind_null(stmt_, index), index, bind_rc_, bind_what_);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<int64_t>& value) {
  return value ? bind(index, *value) : bind(index, std::nullopt);
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind(index, std::nullopt);
}

Result<bool> Statement::step() {
  if (bind_rc_ != SQLITE_OK) return fail(sqlite_error(bind_rc_, "", bind_what_));
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  std::string what = "running \"" + std::string(sql != nullptr ? sql : "").substr(0, 80) + "\"";
  return fail(owner_->error(rc, what));
}

Status Statement::run() {
  while (IMAGED_TRY(step())) {
  }
  return {};
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, column)));
}

std::optional<int64_t> Statement::opt_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::optional<std::string> Statement::opt_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

}  // namespace imaged::metadata
