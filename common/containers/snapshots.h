// Snapshots: each image's layers unpacked once, read-only, shared by its containers through
// overlayfs (the container's writes go to an upper directory of its own). Without overlayfs
// (probed once), containers get a private copy instead (rootfs.h).
//
// On disk: <dir>/<image hex>/, complete or absent: a snapshot is unpacked into a temporary
// directory, synced (syncfs) and renamed into place (the directory synced again), so a crash or
// power loss leaves only a temporary directory, removed by the next start (prune_stale). Snapshots
// of images no longer stored are removed then too.
//
// Thread safety: all methods may be called concurrently; preparing one image twice at once
// unpacks it once.
#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/error.h"

namespace imaged::content {
class Provider;
}

namespace imaged::containers {

class Snapshots {
 public:
  Snapshots(content::Provider& content, std::filesystem::path dir);

  // Removes temporary directories and the snapshots of images `stored` says are gone.
  void prune_stale(const std::function<bool(const Digest& image)>& stored);
  // The snapshot of `image` (unpacking `layers`, bottom first, when it does not exist yet).
  Result<std::filesystem::path> prepare(const Digest& image, const std::vector<Digest>& layers);

  // True when an overlay mount with a directory under `probe_dir` as upper layer works here
  // (probed once; the probe mount is undone at once).
  static bool overlay_works(const std::filesystem::path& probe_dir);

 private:
  content::Provider& content_;
  std::filesystem::path dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> preparing_;  // guarded by mu_
};

}  // namespace imaged::containers
