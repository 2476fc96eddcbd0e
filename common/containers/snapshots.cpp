#include "common/containers/snapshots.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "common/containers/names.h"
#include "common/containers/rootfs.h"
#include "common/content/fd.h"

namespace imaged::containers {

namespace fs = std::filesystem;

namespace {
constexpr std::string_view kTempPrefix = "tmp-";

// syncfs(2) on the filesystem holding `dir`: the unpacked files (data, inodes, directories) are
// on disk before the rename that publishes them, so a published snapshot is never torn by a
// power loss. One call instead of an fsync per file.
Status make_durable(const fs::path& dir) {
  content::UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::syncfs(fd.get()) != 0)
    return fail(content::errno_error(errno, "syncing " + dir.string()));
  return {};
}
}  // namespace

Snapshots::Snapshots(content::Provider& content, fs::path dir)
    : content_(content), dir_(std::move(dir)) {}  // made by the first prepare()

void Snapshots::prune_stale(const std::function<bool(const Digest& image)>& stored) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    auto image = Digest::from_hex(name);
    if (name.starts_with(kTempPrefix) || !image || !stored(*image))
      fs::remove_all(entry.path(), ec);
  }
}

Result<fs::path> Snapshots::prepare(const Digest& image, const std::vector<Digest>& layers) {
  const std::string hex(image.hex());
  fs::path target = dir_ / hex;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !preparing_.contains(hex); });
    std::error_code ec;
    if (fs::is_directory(target, ec)) return target;
    preparing_.insert(hex);
  }
  auto done = [&] {
    std::lock_guard lock(mu_);
    preparing_.erase(hex);
    cv_.notify_all();
  };
  fs::path temp = dir_ / (std::string(kTempPrefix) + random_id().substr(0, 16));
  std::error_code ec;
  fs::create_directories(temp, ec);
  Status st = ec ? fail(Errc::Internal, "creating " + temp.string() + ": " + ec.message())
                 : unpack_layers(content_, layers, temp);
  if (st) st = make_durable(temp);
  if (st) {
    fs::rename(temp, target, ec);
    if (ec)
      st = fail(Errc::Internal, "renaming the snapshot of " + image.str() + ": " + ec.message());
  }
  if (st) st = make_durable(dir_);  // the rename
  if (!st) fs::remove_all(temp, ec);
  done();
  if (!st) return fail(st.error());
  return target;
}

bool Snapshots::overlay_works(const fs::path& probe_dir) {
  std::error_code ec;
  fs::remove_all(probe_dir, ec);
  for (const char* d : {"lower", "upper", "work", "merged"})
    fs::create_directories(probe_dir / d, ec);
  std::string options = "lowerdir=" + (probe_dir / "lower").string() +
                        ",upperdir=" + (probe_dir / "upper").string() +
                        ",workdir=" + (probe_dir / "work").string();
  bool works =
      !ec && ::mount("overlay", (probe_dir / "merged").c_str(), "overlay", 0, options.c_str()) == 0;
  if (works) ::umount2((probe_dir / "merged").c_str(), MNT_DETACH);
  fs::remove_all(probe_dir, ec);
  return works;
}

}  // namespace imaged::containers
