#include "common/content/local_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "common/content/fd.h"
#include "common/content/local_ingest.h"
#include "common/content/local_writer.h"

namespace imaged::content {

namespace {

// How often abort() re-looks at an ingest that is being replaced under it.
constexpr int kMaxAttempts = 16;

class LocalReaderAt final : public ReaderAt {
 public:
  LocalReaderAt(UniqueFd fd, int64_t size) : fd_(std::move(fd)), size_(size) {}

  Result<size_t> read_at(std::span<std::byte> buf, int64_t offset) override {
    if (offset < 0) return fail(Errc::InvalidArgument, "negative read offset");
    if (offset >= size_) return size_t{0};
    const auto left = static_cast<uint64_t>(size_ - offset);
    return pread_full(fd_.get(), buf.first(std::min<uint64_t>(buf.size(), left)), offset);
  }
  int64_t size() const override { return size_; }

 private:
  UniqueFd fd_;
  int64_t size_;
};

Error not_found(const Digest& digest) {
  return Error{Errc::NotFound, "content " + digest.str() + ": not found"};
}

}  // namespace

Result<std::unique_ptr<LocalStore>> LocalStore::open(const std::filesystem::path& root,
                                                     LocalStoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec)
    return fail(Errc::Internal, "create content store " + root.string() + ": " + ec.message());
  auto absolute = std::filesystem::absolute(root, ec);
  if (ec) return fail(Errc::Internal, "resolve " + root.string() + ": " + ec.message());

  auto state = std::make_shared<local::StoreState>();
  state->root = absolute.lexically_normal();
  state->clock = options.clock ? std::move(options.clock) : [] { return Clock::now(); };
  state->logger = std::move(options.logger);
  state->sync = options.sync;
  auto context = [&](const Error& e) { return e.context("open content store " + root.string()); };

  auto root_fd = open_at(AT_FDCWD, state->root.string(), O_RDONLY | O_DIRECTORY);
  if (!root_fd) return fail(context(root_fd.error()));
  state->root_fd = std::move(*root_fd);
  // Created without fsync: the first commit makes the chain durable (make_layout_durable).
  auto blobs = ensure_dir_at(state->root_fd.get(), "blobs");
  if (!blobs) return fail(context(blobs.error()));
  auto sha256 = ensure_dir_at(blobs->get(), "sha256");
  if (!sha256) return fail(context(sha256.error()));
  auto ingest = ensure_dir_at(state->root_fd.get(), "ingest");
  if (!ingest) return fail(context(ingest.error()));
  state->blobs_fd = std::move(*sha256);
  state->ingest_fd = std::move(*ingest);
  return std::unique_ptr<LocalStore>(new LocalStore(std::move(state)));
}

LocalStore::LocalStore(std::shared_ptr<local::StoreState> state) : state_(std::move(state)) {}
LocalStore::~LocalStore() = default;

Result<std::unique_ptr<ReaderAt>> LocalStore::open(const Digest& digest) {
  auto fd = open_at(state_->blobs_fd.get(), std::string(digest.hex()), O_RDONLY);
  if (!fd) {
    if (fd.error().code == Errc::NotFound) return fail(not_found(digest));
    return fail(fd.error());
  }
  const auto st = IMAGED_TRY(fstat_fd(fd->get()));
  return std::make_unique<LocalReaderAt>(std::move(*fd), st.st_size);
}

Result<Info> LocalStore::info(const Digest& digest) {
  auto st = stat_at(state_->blobs_fd.get(), std::string(digest.hex()));
  if (!st) {
    if (st.error().code == Errc::NotFound) return fail(not_found(digest));
    return fail(st.error());
  }
  return Info{digest, st->st_size, local::mtime_of(*st)};
}

Result<std::unique_ptr<Writer>> LocalStore::writer(const std::string& ref, int64_t expected_total) {
  return local::open_writer(state_, ref, expected_total);
}

Status LocalStore::remove(const Digest& digest) {
  if (::unlinkat(state_->blobs_fd.get(), std::string(digest.hex()).c_str(), 0) != 0) {
    if (errno == ENOENT) return fail(not_found(digest));
    return fail(errno_error(errno, "remove " + digest.str()));
  }
  return {};
}

Status LocalStore::walk(const std::function<void(const Info&)>& fn) {
  // Collect first so that `fn` runs with no directory open and may call back into the store.
  const auto names = IMAGED_TRY(list_dir_at(state_->blobs_fd.get()));
  std::vector<Info> infos;
  infos.reserve(names.size());
  for (const auto& name : names) {
    auto digest = Digest::from_hex(name);
    if (!digest) continue;  // not ours
    auto st = stat_at(state_->blobs_fd.get(), name);
    if (!st) {
      if (st.error().code == Errc::NotFound) continue;  // removed meanwhile
      return fail(st.error());
    }
    if (!S_ISREG(st->st_mode)) continue;
    infos.push_back(Info{std::move(*digest), st->st_size, local::mtime_of(*st)});
  }
  for (const auto& info : infos) fn(info);
  return {};
}

Result<std::vector<IngestStatus>> LocalStore::ingests() {
  const auto names = IMAGED_TRY(list_dir_at(state_->ingest_fd.get()));
  std::vector<IngestStatus> out;
  for (const auto& name : names) {
    if (!is_sha256_hex(name)) continue;  // temporary directories of ingests being created
    auto dir = open_at(state_->ingest_fd.get(), name, O_RDONLY | O_DIRECTORY);
    if (!dir) {
      if (dir.error().code == Errc::NotFound) continue;
      return fail(dir.error());
    }
    auto status = local::read_ingest_status(dir->get());
    if (!status) {
      // Gone meanwhile, or torn by power loss (the sweep removes those).
      if (status.error().code == Errc::NotFound || status.error().code == Errc::DataLoss) continue;
      return fail(status.error());
    }
    out.push_back(std::move(*status));
  }
  return out;
}

Status LocalStore::abort(const std::string& ref) {
  if (ref.empty()) return fail(Errc::InvalidArgument, "ingest ref must not be empty");
  auto ref_lock = local::RefLock::acquire(*state_, ref);
  if (!ref_lock)
    return fail(Errc::Unavailable, "ingest " + ref + " is held by a writer; close it first");
  const std::string key = local::ingest_key(ref);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    auto dir = local::lock_ingest_dir(*state_, key);
    if (!dir) {
      if (dir.error().code == Errc::Unavailable)
        return fail(Errc::Unavailable, "ingest " + ref + " is held by a writer; close it first");
      if (dir.error().code != Errc::NotFound) return fail(dir.error());
      // Replaced while we locked it? Look again; otherwise there is nothing to abort.
      if (!stat_at(state_->ingest_fd.get(), key))
        return fail(Errc::NotFound, "ingest " + ref + ": not found");
      continue;
    }
    return local::remove_ingest_dir(*state_, dir->get(), key);
  }
  return fail(Errc::Unavailable, "ingest " + ref + " keeps changing; try again");
}

std::filesystem::path LocalStore::path_of(const Digest& digest) const {
  return state_->root / "blobs" / "sha256" / std::string(digest.hex());
}

const std::filesystem::path& LocalStore::root() const { return state_->root; }

Result<int> LocalStore::remove_stale_ingests(std::chrono::seconds ttl) {
  const auto now = state_->clock();
  const auto names = IMAGED_TRY(list_dir_at(state_->ingest_fd.get()));
  int removed = 0;
  for (const auto& name : names) {
    if (!is_sha256_hex(name) && !name.starts_with(local::kNewIngestPrefix)) continue;
    // The flock alone decides who holds an ingest: it also excludes Writers of this process,
    // which lock through their own open file description.
    auto dir = local::lock_ingest_dir(*state_, name);
    if (!dir) {
      const Errc code = dir.error().code;
      if (code == Errc::NotFound || code == Errc::Unavailable) continue;  // gone, or in use
      return fail(dir.error());
    }
    // Last activity: the data file's mtime (writes and Writer::close touch it), else the
    // directory's (a temporary directory, or a commit that crashed before its cleanup).
    auto st = stat_at(dir->get(), local::kDataFile);
    if (!st) st = fstat_fd(dir->get());
    if (!st) return fail(st.error());
    if (local::mtime_of(*st) + ttl > now) continue;
    if (auto s = local::remove_ingest_dir(*state_, dir->get(), name); !s) {
      local::warn(*state_, "removing stale ingest " + name, s.error());
      continue;
    }
    ++removed;
  }
  return removed;
}

}  // namespace imaged::content
