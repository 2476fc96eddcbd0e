// POSIX file descriptors with RAII, and the few syscall wrappers the content store needs.
//
// Every wrapper retries EINTR and turns errno into an imaged::Error (see errno_error). All of
// them are thread-safe in the sense of the underlying syscalls; a UniqueFd itself is a value that
// one owner uses at a time.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace imaged::content {

// Owns one file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes the current descriptor (errors from close are ignored: the fd is gone either way) and
  // takes ownership of `fd`.
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Maps an errno value to an Error: ENOENT → NotFound, EEXIST/ENOTEMPTY → AlreadyExists,
// EWOULDBLOCK → Unavailable, ENOSPC/EDQUOT → ResourceExhausted, everything else → Internal.
// The message reads "<what>: <strerror>".
Error errno_error(int err, std::string_view what);

// openat(2) with O_CLOEXEC added; error messages name `name`.
Result<UniqueFd> open_at(int dir_fd, const std::string& name, int flags, mode_t mode = 0);
// Creates directory `name` under dir_fd unless it exists, then opens it. Sets *created (when
// given) to whether this call made it.
Result<UniqueFd> ensure_dir_at(int dir_fd, const std::string& name, bool* created = nullptr,
                               mode_t mode = 0755);
// Writes all of `bytes` at the current file offset.
Status write_all(int fd, std::span<const std::byte> bytes);
// Writes all of `bytes` at `offset` (the file offset is not used or moved).
Status pwrite_all(int fd, std::span<const std::byte> bytes, int64_t offset);
// Reads into `buf` at `offset` until it is full or EOF; returns the bytes read.
Result<size_t> pread_full(int fd, std::span<std::byte> buf, int64_t offset);
Status fsync_fd(int fd, std::string_view what);
Result<struct stat> fstat_fd(int fd);
// fstatat(2) without following symlinks; NotFound if missing.
Result<struct stat> stat_at(int dir_fd, const std::string& name);
// flock(LOCK_EX | LOCK_NB): Unavailable if another open file description holds it.
Status try_lock_exclusive(int fd, std::string_view what);

// The names in directory `dir_fd` (without "." and ".."), read through a new open file
// description so concurrent listings of one directory do not share a position.
Result<std::vector<std::string>> list_dir_at(int dir_fd);

// Small whole-file helpers for the ingest's metadata files.
Result<std::string> read_small_file_at(int dir_fd, const std::string& name);
// Writes `name.tmp` then renames it over `name` (readers never see a torn file).
Status replace_small_file_at(int dir_fd, const std::string& name, std::string_view contents);

}  // namespace imaged::content
