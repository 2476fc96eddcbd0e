#include "common/content/local_ingest.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <vector>

namespace imaged::content::local {

Status StoreState::try_lock_ref(const std::string& ref) {
  std::lock_guard lock(mu_);
  const auto now = clock();
  auto [it, inserted] = locked_.try_emplace(ref, now);
  if (!inserted) {
    const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(now - it->second);
    return fail(Errc::Unavailable, "ref " + ref + " is locked by another writer (for " +
                                       std::to_string(held.count()) + " ms)");
  }
  return {};
}

Status StoreState::sync_fd(int fd, std::string_view what) const {
  if (!sync) return {};
  return fsync_fd(fd, what);
}

Status StoreState::make_layout_durable() {
  if (layout_durable_.load(std::memory_order_acquire)) return {};
  std::lock_guard lock(layout_mu_);
  if (layout_durable_.load(std::memory_order_relaxed)) return {};
  auto blobs = IMAGED_TRY(open_at(root_fd.get(), "blobs", O_RDONLY | O_DIRECTORY));
  auto parent = IMAGED_TRY(open_at(root_fd.get(), "..", O_RDONLY | O_DIRECTORY));
  IMAGED_TRY(sync_fd(blobs.get(), "blobs"));
  IMAGED_TRY(sync_fd(root_fd.get(), "store root"));
  IMAGED_TRY(sync_fd(parent.get(), "parent of the store root"));
  layout_durable_.store(true, std::memory_order_release);
  return {};
}

void StoreState::unlock_ref(const std::string& ref) {
  std::lock_guard lock(mu_);
  locked_.erase(ref);
}

Result<RefLock> RefLock::acquire(StoreState& state, const std::string& ref) {
  IMAGED_TRY(state.try_lock_ref(ref));
  RefLock lock;
  lock.state_ = &state;
  lock.ref_ = ref;
  return lock;
}

RefLock::RefLock(RefLock&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)), ref_(std::move(other.ref_)) {}

RefLock& RefLock::operator=(RefLock&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::exchange(other.state_, nullptr);
    ref_ = std::move(other.ref_);
  }
  return *this;
}

void RefLock::reset() {
  if (state_) state_->unlock_ref(ref_);
  state_ = nullptr;
}

std::string ingest_key(const std::string& ref) { return std::string(Digest::of(ref).hex()); }

std::string format_time(Clock::time_point t) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

Result<Clock::time_point> parse_time(std::string_view text) {
  int64_t ns = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
  if (ec != std::errc() || end != text.data() + text.size())
    return fail(Errc::DataLoss, "bad timestamp '" + std::string(text) + "'");
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::nanoseconds(ns)));
}

Clock::time_point mtime_of(const struct stat& st) {
  const auto ns =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(ns));
}

struct timespec to_timespec(Clock::time_point t) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  struct timespec ts {};
  ts.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(ns % 1'000'000'000);
  if (ts.tv_nsec < 0) {
    ts.tv_nsec += 1'000'000'000;
    ts.tv_sec -= 1;
  }
  return ts;
}

Result<UniqueFd> lock_ingest_dir(const StoreState& state, const std::string& name) {
  auto dir = IMAGED_TRY(open_at(state.ingest_fd.get(), name, O_RDONLY | O_DIRECTORY));
  IMAGED_TRY(try_lock_exclusive(dir.get(), "ingest " + name));
  // The lock is on the inode we opened; make sure the name still leads there. A remover deletes
  // the directory before it lets go of the lock, so once this matches, it stays ours.
  const auto locked = IMAGED_TRY(fstat_fd(dir.get()));
  auto now = stat_at(state.ingest_fd.get(), name);
  if (!now || now->st_ino != locked.st_ino || now->st_dev != locked.st_dev)
    return fail(Errc::NotFound, "ingest " + name + " was removed meanwhile");
  return dir;
}

Status remove_ingest_dir(const StoreState& state, int dir_fd, const std::string& name) {
  const auto names = IMAGED_TRY(list_dir_at(dir_fd));
  for (const auto& n : names) {
    if (::unlinkat(dir_fd, n.c_str(), 0) != 0 && errno != ENOENT)
      return fail(errno_error(errno, "remove ingest file " + name + "/" + n));
  }
  if (::unlinkat(state.ingest_fd.get(), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT)
    return fail(errno_error(errno, "remove ingest " + name));
  return {};
}

Result<IngestStatus> read_ingest_status(int dir_fd) {
  IngestStatus status;
  auto ref = read_small_file_at(dir_fd, kRefFile);
  if (!ref) {
    if (ref.error().code == Errc::NotFound)
      return fail(Errc::DataLoss, "ingest has no ref file (torn ingest)");
    return fail(ref.error());
  }
  if (ref->empty()) return fail(Errc::DataLoss, "ingest has an empty ref file (torn ingest)");
  status.ref = std::move(*ref);

  if (auto total = read_small_file_at(dir_fd, kTotalFile)) {
    int64_t value = -1;
    auto [end, ec] = std::from_chars(total->data(), total->data() + total->size(), value);
    if (ec == std::errc() && end == total->data() + total->size() && value >= 0)
      status.total = value;
  }

  const auto dir_stat = IMAGED_TRY(fstat_fd(dir_fd));
  status.started_at = mtime_of(dir_stat);
  if (auto started = read_small_file_at(dir_fd, kStartedAtFile)) {
    if (auto t = parse_time(*started)) status.started_at = *t;
  }

  // The data file is missing only in a crash between the commit's rename and the cleanup.
  status.offset = 0;
  status.updated_at = status.started_at;
  if (auto data = stat_at(dir_fd, kDataFile)) {
    status.offset = data->st_size;
    status.updated_at = mtime_of(*data);
  }
  return status;
}

void warn(const StoreState& state, std::string_view what, const Error& error) {
  auto logger = state.logger ? state.logger : spdlog::default_logger();
  logger->warn("content store {}: {}: {}", state.root.string(), what, error.message);
}

}  // namespace imaged::content::local
