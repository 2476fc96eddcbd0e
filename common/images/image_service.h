// ImageService: the one interface api/ sees of the image store. Pull, push, tag, untag/delete,
// list, inspect, history, df, prune, events, save, load.
//
// Names: every `name` argument is what a user typed, resolved as dockerd does (image_lookup.h):
// a full or short image ID (unique hex prefix, with or without "sha256:"), `repo[:tag]`
// (default :latest; docker.io/library normalised), or `repo@sha256:<manifest digest>`.
//
// Errors: NotFound "No such image: busybox:nosuch" (dockerd's text), InvalidArgument for bad
// references ("invalid reference format: ..."), Conflict for deletes dockerd refuses,
// Internal/DataLoss for store failures. Every write is one metadata transaction; blobs are
// unlinked only after the transaction that dropped their last reference has committed.
//
// Thread safety: all methods may be called concurrently from worker threads; they block
// (SQLite, disk, registries) and must never run on an I/O thread.
// Lifetime: owned by the composition root; the stores, client and event log passed to the
// constructor must outlive it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"
#include "common/oci.h"
#include "common/reference.h"
#include "common/remotes/auth_config.h"

namespace imaged::content {
class ReaderAt;
class Store;
}  // namespace imaged::content
namespace imaged::metadata {
class MetadataStore;
}
namespace imaged::remotes {
class RegistryClient;
}

namespace imaged::images {

class EventLog;
class ImageUsers;

// Receives the messages of a long operation (pull, push, load) in order. Returns false when
// nobody listens any more (client gone): the operation may continue for other waiters but
// stops reporting.
using ProgressSink = std::function<bool(const Progress&)>;

struct ImageServiceOptions {
  oci::Platform platform;            // the daemon's platform (linux/amd64 here)
  int max_concurrent_downloads = 3;  // per daemon, as dockerd's flag
  // Reads the bytes of a partial layer download (open_ingest_data for a LocalStore), so that an
  // interrupted pull resumes where it stopped; without it a partial download starts over.
  std::function<Result<std::unique_ptr<content::ReaderAt>>(const std::string& ref)> open_partial;
};

class BlobSweeper;

struct PullRequest {
  Reference ref;  // normalised; tag or digest (no tag = latest)
  std::optional<oci::Platform> platform;
  remotes::AuthConfig auth;  // from X-Registry-Auth; may be empty
  std::stop_token stop;      // requested when the client went away (optional)
};

class ImageService {
 public:
  ImageService(content::Store& content, metadata::MetadataStore& metadata,
               remotes::RegistryClient& registry, EventLog& events, ImageServiceOptions options);
  ~ImageService();
  ImageService(const ImageService&) = delete;
  ImageService& operator=(const ImageService&) = delete;

  // ---- pull (puller.h) ----
  // Pulls ref into the store, reporting dockerd-shaped progress. Errors before the first
  // progress message are returned for an HTTP error status; later ones too, and the API layer
  // writes them in-stream.
  Status pull(const PullRequest& request, const ProgressSink& progress);

  // ---- names (image_lookup.h) ----
  // The image ID `name` refers to.
  Result<Digest> resolve(std::string_view name);

  // ---- management (image_tagger.h, image_lister.h, image_inspector.h, image_remover.h) ----
  // Tags the image `source` refers to as `target` (a tag reference, no digest; none → latest);
  // moving an existing tag is recorded in tag history. NotFound, InvalidArgument.
  Status tag(std::string_view source, const Reference& target);
  Result<std::vector<ImageSummary>> list(const ListOptions& options);
  Result<ImageDetail> inspect(std::string_view name);
  // The layer blobs of image `id` as stored (compressed or not), bottom first: what a
  // container's root filesystem is unpacked from.
  Result<std::vector<Digest>> layer_blobs(const Digest& id);
  Result<std::vector<HistoryEntry>> history(std::string_view name);
  // dockerd's rmi semantics (engine-api.md §3.6).
  Result<std::vector<DeleteItem>> remove(std::string_view name, bool force, bool noprune);
  Result<PruneReport> prune(const PruneOptions& options);
  Result<DiskUsage> disk_usage();
  Result<int64_t> image_count();

  // Who uses images (the container service), for rmi's and prune's rules (image_remover.h).
  // Set once, before serving.
  void set_image_users(const ImageUsers* users);

  // The unlinker of freed blobs; writers of new blob references (pull, load) hold its
  // ingest_guard() (blob_sweeper.h).
  BlobSweeper& sweeper();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace imaged::images
