// Thin RAII layer over the SQLite C API: a Connection owns one sqlite3* and a cache of prepared
// statements; a Statement is a lease on one cached sqlite3_stmt* that resets it when it goes away.
//
// Thread safety: a Connection (and every Statement leased from it) is used by one thread at a
// time; the connection is opened in SQLite's multi-thread mode (SQLITE_OPEN_NOMUTEX), so the
// owner (MetadataStore) serialises access. Lifetimes: every Statement must be destroyed before
// its Connection.
//
// Errors: SQLite result codes are mapped to Errc in one place (sqlite_error): BUSY/LOCKED ->
// Unavailable, CORRUPT/NOTADB -> DataLoss, CONSTRAINT -> Conflict, FULL -> ResourceExhausted,
// everything else -> Internal. The message carries SQLite's own text.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

struct sqlite3;
struct sqlite3_stmt;

namespace imaged::metadata {

// Builds an Error from an SQLite (extended) result code and message.
Error sqlite_error(int rc, std::string_view message, std::string_view what);

class Statement;

struct ConnectionOptions {
  bool create = true;          // create the file if missing
  bool query_only = false;     // PRAGMA query_only: any write fails (reader connections)
  int busy_timeout_ms = 5000;  // how long a locked database is retried before Unavailable
};

class Connection {
 public:
  // Opens (or creates) the database file. Sets extended result codes, the busy timeout and
  // foreign_keys=ON (the journal mode is the store's business, see MetadataStore::open).
  // Errc::Internal when the file cannot be opened, DataLoss when it is not a database.
  static Result<Connection> open(const std::filesystem::path& path,
                                 const ConnectionOptions& options);

  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  // Runs one or more SQL statements that return no rows the caller needs (DDL, PRAGMA, BEGIN).
  Status exec(std::string_view sql);

  // Leases the cached prepared statement for `sql`, preparing it on first use. If the cached
  // statement is already leased (a nested use of the same SQL), a private one is prepared and
  // finalised when the lease ends.
  Result<Statement> prepare(std::string_view sql);

  // Convenience for single-value queries (PRAGMAs, counts): the first column of the first row.
  // NotFound when there is no row.
  Result<int64_t> query_int(std::string_view sql);
  Result<std::string> query_text(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t changes() const;
  int64_t last_insert_rowid() const;
  // True when no transaction is open (SQLite's autocommit mode).
  bool autocommit() const;

  // fsync()s the WAL (or rollback journal) file now. With synchronous=NORMAL a WAL commit is
  // written but not synced; this makes the last commit durable on demand.
  Status sync_journal();

  // The raw handle, for tests and for the few calls this wrapper does not cover.
  sqlite3* raw() const;

 private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  friend class Statement;
};

// A lease on a prepared statement. Bind parameters (1-based), step, read columns (0-based).
// Bind errors (wrong index, out of memory) are remembered and reported by the next step().
// Text is bound with SQLITE_TRANSIENT (copied), so arguments may be temporaries.
class Statement {
 public:
  Statement(Statement&&) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, std::nullopt_t);
  Statement& bind(int index, const std::optional<int64_t>& value);
  Statement& bind(int index, const std::optional<std::string>& value);

  // Binds every argument in order, starting at parameter 1.
  template <class... Args>
  Statement& bind_all(const Args&... args) {
    int index = 0;
    (bind(++index, args), ...);
    return *this;
  }

  // Advances: true when a row is available, false when the statement is done.
  Result<bool> step();
  // Steps until done, ignoring rows (for INSERT/UPDATE/DELETE without RETURNING).
  Status run();

  bool is_null(int column) const;
  int64_t int64(int column) const;
  std::string text(int column) const;
  std::optional<int64_t> opt_int64(int column) const;
  std::optional<std::string> opt_text(int column) const;

 private:
  friend class Connection;
  Statement(Connection::Impl* owner, sqlite3_stmt* stmt, bool* in_use);
  Connection::Impl* owner_;
  sqlite3_stmt* stmt_;
  bool* in_use_;  // the cache slot's flag; nullptr for a private (uncached) statement
  int bind_rc_ = 0;
  std::string bind_what_;
};

}  // namespace imaged::metadata
