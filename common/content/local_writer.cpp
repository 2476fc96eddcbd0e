#include "common/content/local_writer.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <vector>

namespace imaged::content::local {

namespace {

// Small writes are gathered up to this size before they reach the file; larger ones go straight
// through. Also the read size when re-hashing a resumed ingest.
constexpr size_t kBufferSize = 1 << 20;
// How often writer() re-looks at an ingest directory that other processes keep replacing.
constexpr int kMaxAttempts = 16;

Status write_new_file(int dir_fd, const std::string& name, std::string_view contents) {
  auto fd = IMAGED_TRY(open_at(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644));
  return write_all(fd.get(), std::as_bytes(std::span(contents.data(), contents.size())));
}

// Writes the metadata of a (re)started ingest.
Status write_metadata(int dir_fd, const std::string& ref, int64_t total,
                      Clock::time_point started_at) {
  IMAGED_TRY(write_new_file(dir_fd, kRefFile, ref));
  if (total >= 0) {
    IMAGED_TRY(write_new_file(dir_fd, kTotalFile, std::to_string(total)));
  } else if (::unlinkat(dir_fd, kTotalFile.c_str(), 0) != 0 && errno != ENOENT) {
    return fail(errno_error(errno, "remove " + kTotalFile));
  }
  return write_new_file(dir_fd, kStartedAtFile, format_time(started_at));
}

// Builds a new ingest under a temporary name and renames it to ingest/<key>, keeping it locked.
//   NotFound       lost a race (a sweep removed the temporary directory): try again
//   AlreadyExists  another writer created ingest/<key> meanwhile: lock that one instead
Result<UniqueFd> create_ingest_dir(StoreState& state, const std::string& key,
                                   const std::string& ref, int64_t total) {
  const std::string tmp = std::string(kNewIngestPrefix) + key + "-" + std::to_string(::getpid()) +
                          "-" + std::to_string(state.next_serial());
  if (::mkdirat(state.ingest_fd.get(), tmp.c_str(), 0755) != 0)
    return fail(errno_error(errno, "create ingest " + tmp));
  auto locked = lock_ingest_dir(state, tmp);
  if (!locked) {
    // Only a sweep touches temporary directories; it is about to remove this one.
    return fail(Errc::NotFound, "new ingest " + tmp + " was swept: " + locked.error().message);
  }
  UniqueFd dir = std::move(*locked);
  auto populated = [&]() -> Status {
    IMAGED_TRY(write_metadata(dir.get(), ref, total, state.clock()));
    IMAGED_TRY(open_at(dir.get(), kDataFile, O_WRONLY | O_CREAT, 0644));
    // RENAME_NOREPLACE: never swap in over an ingest another process just created.
    if (::renameat2(state.ingest_fd.get(), tmp.c_str(), state.ingest_fd.get(), key.c_str(),
                    RENAME_NOREPLACE) == 0)
      return {};
    // Filesystems without RENAME_NOREPLACE: renaming a directory onto a non-empty one fails.
    if (errno == EINVAL &&
        ::renameat(state.ingest_fd.get(), tmp.c_str(), state.ingest_fd.get(), key.c_str()) == 0)
      return {};
    if (errno == EEXIST || errno == ENOTEMPTY)
      return fail(Errc::AlreadyExists, "ingest " + key + " appeared meanwhile");
    return fail(errno_error(errno, "rename " + tmp));
  }();
  if (!populated) {
    if (auto removed = remove_ingest_dir(state, dir.get(), tmp); !removed)
      warn(state, "removing new ingest " + tmp, removed.error());
    return fail(populated.error());
  }
  return dir;
}

// Opens the data file for writing. A crash between a commit's chmod and its rename can leave it
// read-only; it is still ours to write (the commit did not happen).
Result<UniqueFd> open_data(int dir_fd) {
  for (int attempt = 0;; ++attempt) {
    const int fd = ::openat(dir_fd, kDataFile.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) return UniqueFd(fd);
    const int err = errno;
    if (err == EINTR) continue;
    if ((err != EACCES && err != EPERM) || attempt > 0)
      return fail(errno_error(err, "open ingest data"));
    if (::fchmodat(dir_fd, kDataFile.c_str(), 0644, 0) != 0)
      return fail(errno_error(errno, "chmod ingest data"));
  }
}

class LocalWriter final : public Writer {
 public:
  LocalWriter(std::shared_ptr<StoreState> state, RefLock ref_lock, std::string key, UniqueFd dir,
              UniqueFd data, int64_t offset, int64_t total, Sha256 hasher)
      : state_(std::move(state)),
        ref_lock_(std::move(ref_lock)),
        key_(std::move(key)),
        dir_(std::move(dir)),
        data_(std::move(data)),
        offset_(offset),
        disk_offset_(offset),
        total_(total),
        hasher_(std::move(hasher)) {}
  ~LocalWriter() override { close(); }

  using Writer::write;

  Status write(std::span<const std::byte> bytes) override {
    IMAGED_TRY(usable());
    const auto n = static_cast<int64_t>(bytes.size());
    if (total_ >= 0 && n > total_ - offset_)
      return fail(Errc::FailedPrecondition,
                  "write of " + std::to_string(n) + " bytes at offset " + std::to_string(offset_) +
                      " goes past the expected total of " + std::to_string(total_));
    hasher_.update(bytes);
    offset_ += n;
    dirty_ = true;
    if (buffer_.size() + bytes.size() > kBufferSize) {
      IMAGED_TRY(flush());
      if (bytes.size() >= kBufferSize) {
        // Large writes skip the copy.
        IMAGED_TRY(broken_by(pwrite_all(data_.get(), bytes, disk_offset_)));
        disk_offset_ += n;
        return {};
      }
    }
    if (buffer_.capacity() == 0) buffer_.reserve(kBufferSize);
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
    return {};
  }

  int64_t offset() const override { return offset_; }
  Digest digest_so_far() override { return hasher_.current(); }

  Status truncate_to_zero() override {
    if (!open_) return fail(Errc::FailedPrecondition, "writer for " + key_ + " is closed");
    if (::ftruncate(data_.get(), 0) != 0)
      return broken_by(fail(errno_error(errno, "truncate ingest data")));
    // A fresh start also clears an earlier write error: file and hash agree again.
    broken_.reset();
    buffer_.clear();
    offset_ = disk_offset_ = 0;
    hasher_.reset();
    dirty_ = true;
    return {};
  }

  Status commit(int64_t expected_size, const Digest& expected) override {
    if (!open_) return fail(Errc::FailedPrecondition, "commit on a closed writer");
    if (broken_) {
      Error error = broken_->context("commit after a failed write");
      close();
      return fail(std::move(error));
    }
    // 1. Every byte in the file.
    if (auto flushed = flush(); !flushed) {
      close();
      return flushed;
    }
    // 2. Verify before paying for fsync: a mismatch discards the ingest.
    auto st = fstat_fd(data_.get());
    if (!st) {
      close();
      return fail(st.error());
    }
    if (st->st_size != offset_)
      return discard(fail(Errc::FailedPrecondition,
                          "ingest data is " + std::to_string(st->st_size) + " bytes on disk but " +
                              std::to_string(offset_) + " were written"));
    if (expected_size >= 0 && offset_ != expected_size)
      return discard(fail(Errc::FailedPrecondition, "unexpected commit size " +
                                                        std::to_string(offset_) + ", expected " +
                                                        std::to_string(expected_size)));
    const Digest actual = hasher_.current();
    if (actual != expected)
      return discard(fail(Errc::FailedPrecondition, "unexpected commit digest " + actual.str() +
                                                        ", expected " + expected.str()));
    const std::string name(expected.hex());
    const int blobs = state_->blobs_fd.get();
    if (stat_at(blobs, name))
      return discard(fail(Errc::AlreadyExists, "content " + expected.str() + ": already exists"));

    // 3. Make the file what blobs/ holds: read-only, stamped with the commit time, durable.
    const struct timespec now = to_timespec(state_->clock());
    const struct timespec times[2] = {now, now};
    if (::fchmod(data_.get(), 0444) != 0)
      return close_with(errno_error(errno, "chmod ingest data"));
    if (::futimens(data_.get(), times) != 0)
      return close_with(errno_error(errno, "set commit time"));
    if (auto synced = state_->sync_fd(data_.get(), "ingest data"); !synced)
      return close_with(synced.error());

    // 4. Publish atomically; blobs/ never sees a partial or unverified file.
    int rc = ::renameat2(dir_.get(), kDataFile.c_str(), blobs, name.c_str(), RENAME_NOREPLACE);
    if (rc != 0 && errno == EINVAL) {
      // No RENAME_NOREPLACE here. Replacing a blob with verified identical bytes is harmless.
      rc = ::renameat(dir_.get(), kDataFile.c_str(), blobs, name.c_str());
    }
    if (rc != 0) {
      if (errno == EEXIST)
        return discard(fail(Errc::AlreadyExists, "content " + expected.str() + ": already exists"));
      return close_with(errno_error(errno, "commit rename"));
    }

    // 5. Make the new name durable (and, on a store's first commit, the directories above it),
    // then drop the ingest. The ingest's removal needs no fsync: if a crash undoes it, a
    // leftover directory without data is resumable from 0 or swept.
    Status synced = state_->sync_fd(blobs, "blobs directory");
    if (synced) synced = state_->make_layout_durable();
    discard(Status{});
    return synced;
  }

  void close() override {
    if (!open_) return;
    // Leave the ingest as complete as we can: buffered bytes to disk, mtime = last activity.
    if (auto flushed = flush(); !flushed) warn(*state_, "flush on close", flushed.error());
    if (dirty_) {
      const struct timespec now = to_timespec(state_->clock());
      const struct timespec times[2] = {now, now};
      ::futimens(data_.get(), times);
      if (auto synced = state_->sync_fd(data_.get(), "ingest data"); !synced)
        warn(*state_, "sync on close", synced.error());
    }
    release();
  }

 private:
  Status usable() const {
    if (!open_) return fail(Errc::FailedPrecondition, "writer for ingest " + key_ + " is closed");
    if (broken_) return fail(broken_->context("writer broken by an earlier error"));
    return {};
  }

  // Remembers an I/O failure: the hash now covers bytes the file may lack.
  Status broken_by(Status status) {
    if (!status) broken_ = status.error();
    return status;
  }

  Status flush() {
    if (buffer_.empty()) return {};
    IMAGED_TRY(broken_by(pwrite_all(data_.get(), buffer_, disk_offset_)));
    disk_offset_ += static_cast<int64_t>(buffer_.size());
    buffer_.clear();
    return {};
  }

  // Commit failed on I/O: keep the ingest for a resume, as close() would (but writable again).
  Status close_with(Error error) {
    ::fchmod(data_.get(), 0644);
    buffer_.clear();
    dirty_ = false;
    release();
    return fail(std::move(error));
  }

  // Removes the ingest, closes the writer and returns `result`.
  Status discard(Status result) {
    if (auto removed = remove_ingest_dir(*state_, dir_.get(), key_); !removed)
      warn(*state_, "removing ingest", removed.error());
    buffer_.clear();
    release();
    return result;
  }

  void release() {
    open_ = false;
    data_.reset();
    dir_.reset();       // drops the flock: other processes may take the ref now...
    ref_lock_.reset();  // ...and only then other threads of this one.
  }

  std::shared_ptr<StoreState> state_;
  RefLock ref_lock_;
  std::string key_;
  UniqueFd dir_;         // ingest/<key>, flocked while open
  UniqueFd data_;        // ingest/<key>/data
  int64_t offset_;       // bytes accepted (file + buffer)
  int64_t disk_offset_;  // bytes in the file
  int64_t total_;        // expected total, -1 if unknown
  Sha256 hasher_;
  std::vector<std::byte> buffer_;
  std::optional<Error> broken_;
  bool open_ = true;
  bool dirty_ = false;
};

}  // namespace

Result<std::unique_ptr<Writer>> open_writer(const std::shared_ptr<StoreState>& state,
                                            const std::string& ref, int64_t expected_total) {
  if (ref.empty()) return fail(Errc::InvalidArgument, "ingest ref must not be empty");
  if (expected_total < 0) expected_total = -1;

  // 1. Threads of this process first (cheap, and a clear message), then other processes.
  auto ref_lock = IMAGED_TRY(RefLock::acquire(*state, ref));
  const std::string key = ingest_key(ref);
  UniqueFd dir;
  bool created = false;
  for (int attempt = 0;; ++attempt) {
    if (attempt == kMaxAttempts)
      return fail(Errc::Unavailable, "ingest for ref " + ref + " keeps changing; try again");
    auto locked = lock_ingest_dir(*state, key);
    if (locked) {
      dir = std::move(*locked);
      break;
    }
    if (locked.error().code == Errc::Unavailable)
      return fail(Errc::Unavailable,
                  "ref " + ref + " is locked by another writer (" + locked.error().message + ")");
    if (locked.error().code != Errc::NotFound) return fail(locked.error().context("ref " + ref));
    auto made = create_ingest_dir(*state, key, ref, expected_total);
    if (made) {
      dir = std::move(*made);
      created = true;
      break;
    }
    if (made.error().code != Errc::NotFound && made.error().code != Errc::AlreadyExists)
      return fail(made.error().context("ref " + ref));
  }

  // 2. Check what a resumed ingest holds; restart it when it cannot be continued.
  int64_t total = expected_total;
  bool restart = false;
  if (!created) {
    auto status = read_ingest_status(dir.get());
    if (!status) {
      if (status.error().code != Errc::DataLoss) return fail(status.error().context("ref " + ref));
      restart = true;  // torn metadata (power loss): start over
    } else if (status->ref != ref) {
      return fail(Errc::DataLoss, "ingest " + key + " holds ref " + status->ref + ", not " + ref);
    } else if (expected_total >= 0 && status->total >= 0 && status->total != expected_total) {
      restart = true;  // a different blob under the same ref
    } else if (expected_total < 0) {
      total = status->total;
    } else if (status->total < 0) {
      IMAGED_TRY(replace_small_file_at(dir.get(), kTotalFile, std::to_string(total)));
    }
  }

  // 3. Re-hash the bytes already there so digest_so_far() and commit() cover them.
  auto data = IMAGED_TRY(open_data(dir.get()));
  Sha256 hasher;
  int64_t offset = 0;
  if (!restart) {
    const auto st = IMAGED_TRY(fstat_fd(data.get()));
    if (total >= 0 && st.st_size > total) restart = true;  // cannot be a prefix of the blob
  }
  if (restart) {
    // Data first: a crash in between leaves old metadata over no bytes, which restarts again,
    // never new metadata over bytes of another blob.
    if (::ftruncate(data.get(), 0) != 0) return fail(errno_error(errno, "truncate ingest data"));
    IMAGED_TRY(write_metadata(dir.get(), ref, total, state->clock()));
  }
  if (created || restart) {
    // updated_at is the data file's mtime; start it on the store's clock, not the kernel's.
    const struct timespec now = to_timespec(state->clock());
    const struct timespec times[2] = {now, now};
    ::futimens(data.get(), times);
  } else {
    std::vector<std::byte> buf(kBufferSize);
    for (;;) {
      const size_t n = IMAGED_TRY(pread_full(data.get(), buf, offset));
      if (n == 0) break;
      hasher.update(std::span(buf).first(n));
      offset += static_cast<int64_t>(n);
    }
  }
  return std::make_unique<LocalWriter>(state, std::move(ref_lock), key, std::move(dir),
                                       std::move(data), offset, total, std::move(hasher));
}

}  // namespace imaged::content::local
