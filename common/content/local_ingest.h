// Internals of LocalStore shared with its writers: the open directories, the in-process lock
// table of ingest refs, and the operations on one ingest directory. Not a public API; include
// common/content/local_store.h instead.
//
// An ingest lives in ingest/<key>/ (key = sha256 hex of the ref) and holds:
//   ref        the ref string (identifies the ingest; checked on resume)
//   total      the expected size in decimal, absent if unknown
//   startedat  nanoseconds since the epoch, decimal
//   data       the bytes received so far; its mtime is the ingest's updated_at
// A new ingest is built under ingest/.new-<key>-<pid>-<n>/ and renamed into place, so a keyed
// directory always has its metadata (barring power loss, which resume also tolerates).
//
// Locking: a Writer holds its ref in StoreState's table (threads of this process) and an flock on
// the ingest directory (other processes). Anything that deletes an ingest directory takes both
// first, so a directory is never removed under a live Writer.
#pragma once

#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/content/content.h"
#include "common/content/fd.h"

namespace spdlog {
class logger;
}

namespace imaged::content::local {

inline const std::string kRefFile = "ref";
inline const std::string kTotalFile = "total";
inline const std::string kStartedAtFile = "startedat";
inline const std::string kDataFile = "data";
inline constexpr std::string_view kNewIngestPrefix = ".new-";

// One LocalStore's state, shared (by shared_ptr) with its Writers so they may outlive it.
// Thread-safe: the fds are only used with *at() calls, the lock table has its own mutex.
class StoreState {
 public:
  std::filesystem::path root;
  UniqueFd root_fd;
  UniqueFd blobs_fd;   // blobs/sha256
  UniqueFd ingest_fd;  // ingest
  std::function<Clock::time_point()> clock;
  std::shared_ptr<spdlog::logger> logger;
  bool sync = true;  // LocalStoreOptions::sync

  // fsync(fd) unless sync is off.
  Status sync_fd(int fd, std::string_view what) const;

  // Makes the directory chain that holds blobs durable: fsyncs blobs/ (its entry sha256/), the
  // root (blobs/, ingest/) and the root's parent (the root itself). LocalStore::open creates
  // directories without syncing them, so that opening a new store costs no fsync; every commit
  // calls this before it reports success, so no commit is durable unless the chain is. Only the
  // first successful call does I/O (a failed one is retried by the next); concurrent callers
  // wait for it. A no-op when sync is off.
  Status make_layout_durable();

  // Marks `ref` as held by a Writer of this process. Unavailable if it already is.
  Status try_lock_ref(const std::string& ref);
  void unlock_ref(const std::string& ref);
  // A fresh suffix for temporary names.
  uint64_t next_serial() { return serial_.fetch_add(1); }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, Clock::time_point> locked_;  // ref → since
  std::mutex layout_mu_;
  std::atomic<bool> layout_durable_{false};  // set under layout_mu_
  std::atomic<uint64_t> serial_{0};
};

// Holds a ref in the StoreState lock table until destroyed or release()d.
class RefLock {
 public:
  RefLock() = default;
  static Result<RefLock> acquire(StoreState& state, const std::string& ref);
  ~RefLock() { reset(); }
  RefLock(RefLock&& other) noexcept;
  RefLock& operator=(RefLock&& other) noexcept;
  RefLock(const RefLock&) = delete;
  RefLock& operator=(const RefLock&) = delete;
  void reset();

 private:
  StoreState* state_ = nullptr;
  std::string ref_;
};

// sha256 hex of the ref: the ingest directory's name.
std::string ingest_key(const std::string& ref);

std::string format_time(Clock::time_point t);
Result<Clock::time_point> parse_time(std::string_view text);
Clock::time_point mtime_of(const struct stat& st);
struct timespec to_timespec(Clock::time_point t);

// Opens ingest/<name>, takes its flock without waiting, and checks that the name still refers to
// the directory now locked (a remover may have deleted or replaced it in between).
//   NotFound     no such directory, or it was removed or replaced while we locked it
//   Unavailable  another open file description (Writer, abort, sweep) holds the lock
Result<UniqueFd> lock_ingest_dir(const StoreState& state, const std::string& name);

// Deletes every file in the locked ingest directory `dir_fd`, then the directory ingest/<name>.
// The caller holds the directory's flock throughout.
Status remove_ingest_dir(const StoreState& state, int dir_fd, const std::string& name);

// Reads an ingest's status (a snapshot; no lock needed). DataLoss if the ref file is missing or
// unreadable (an ingest torn by power loss), NotFound if the directory vanished.
Result<IngestStatus> read_ingest_status(int dir_fd);

// Logs a warning for a best-effort step that failed (cleanups after a commit).
void warn(const StoreState& state, std::string_view what, const Error& error);

}  // namespace imaged::content::local
