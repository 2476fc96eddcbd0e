// Puller: `docker pull` for the image store (ImageService::pull forwards here).
//
// The flow, top to bottom (puller.cpp numbers the same steps):
//  1. resolve the reference (HEAD); if the store already maps repo@<that digest> to an image the
//     tag (or digest) names, the pull is "Image is up to date" and nothing else is fetched;
//  2. fetch the manifest, through the index for multi-arch images: the request's platform or the
//     daemon's; a missing platform is an error naming the available ones (never a fallback);
//  3. fetch the config and check it against the manifest;
//  4. fetch the layers concurrently (daemon-wide DownloadLimiter, FIFO; one download per blob
//     shared by concurrent pulls, SingleFlight); layers already committed are "Already exists".
//     Each layer is streamed once through a LayerDigester into a resumable ingest keyed by its
//     digest ("layer-sha256:..."): an interrupted download (connection cut, daemon killed)
//     resumes from its offset with Range on the next pull. A blob is committed only after its
//     digest, size AND diff_id (config rootfs.diff_ids) check out; a bad one is discarded;
//  5. commit the config, manifest and index blobs;
//  6. one metadata transaction: put_image, set_tag (tag pulls; a moved tag leaves the old image
//     dangling, as dockerd), add_repo_digest(repo, root digest: the index digest for multi-arch),
//     and the `pull` event (EventLog::append in the same transaction);
//  7. "Digest: ..." and "Status: ..." lines.
// A failure at any step commits nothing to metadata; layer blobs verified before the failure
// stay committed (unreferenced until a later pull uses them) and partial downloads stay as
// ingests for a resume.
//
// Errors (first failure wins): those of RegistryClient (NotFound with dockerd's "manifest for
// ... not found: manifest unknown: ...", Unauthenticated, Unavailable, ...); NotFound "no
// matching manifest for linux/arm64/v8 in the manifest list entries (available: ...)";
// FailedPrecondition "filesystem layer verification failed for digest sha256:..." (bytes do not
// hash to the digest) and "layers from manifest don't match image configuration: ..." (diff_id);
// InvalidArgument for unsupported manifests/media types and corrupt compressed streams; Canceled
// when the client went away; store errors.
//
// Thread-safe: pull() may run on many threads at once. The stores and the client must outlive
// the Puller.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/content/content.h"
#include "common/error.h"
#include "common/images/image_service.h"
#include "common/images/layer_digester.h"
#include "common/images/types.h"
#include "common/oci.h"

namespace spdlog {
class logger;
}
namespace imaged::metadata {
class MetadataStore;
}
namespace imaged::remotes {
class RegistryClient;
}

namespace imaged::images {

class BlobSweeper;
class DownloadLimiter;
class EventLog;

struct PullerOptions {
  oci::Platform platform = oci::host_platform();  // when the request names none
  int max_concurrent_downloads = 3;               // daemon-wide, as dockerd's flag
  LayerDigesterOptions digester;
  // Opens the bytes a partial ingest holds (open_ingest_data for a LocalStore), to rebuild the
  // diff_id state of a resumed download. Without it a partial ingest restarts from zero.
  std::function<Result<std::unique_ptr<content::ReaderAt>>(const std::string& ref)> open_partial;
  // Where the `pull` event goes (appended in the pull's metadata transaction); may be null.
  EventLog* events = nullptr;
  // Whose ingest_guard() the final check-blobs-then-write-rows step holds; may be null.
  BlobSweeper* sweeper = nullptr;
  std::chrono::milliseconds progress_interval{100};
  std::shared_ptr<spdlog::logger> logger;  // default: spdlog's default logger
};

class Puller {
 public:
  Puller(content::Store& content, metadata::MetadataStore& metadata,
         remotes::RegistryClient& registry, PullerOptions options = {});
  ~Puller();
  Puller(const Puller&) = delete;
  Puller& operator=(const Puller&) = delete;

  // Pulls request.ref, reporting progress through `progress` (see the flow above). Blocking.
  Status pull(const PullRequest& request, const ProgressSink& progress);

  // The daemon-wide download slots (for tests and metrics).
  DownloadLimiter& limiter();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The short id docker shows for a layer: the first 12 hex digits of its compressed digest.
std::string layer_short_id(const Digest& digest);

}  // namespace imaged::images
