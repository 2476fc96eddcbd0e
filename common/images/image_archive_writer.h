// ImageArchiveWriter: `docker save` (GET /images/{name}/get, GET /images/get?names=…) as moby
// 25+ writes it: an OCI image layout (oci-layout, index.json with
// org.opencontainers.image.ref.name / io.containerd.image.name annotations, blobs/sha256/<hex>
// byte-exact: config, manifest, layers as stored, compressed or not) plus docker's manifest.json
// ([{"Config":"blobs/sha256/<hex>","RepoTags":[…],"Layers":["blobs/sha256/<hex>",…]}]) and
// `repositories`, so that both OCI-aware loaders and dockerd 20.10's legacy loader (which reads
// manifest.json and decompresses layers) load it.
//
// Two steps: plan() resolves the names in one read snapshot (errors before any byte is sent:
// NotFound "No such image: …", InvalidArgument for bad references); write() streams the tar
// through a sink, blob files read from disk in 1 MiB chunks (bounded memory whatever the image
// size), and appends one `save` event per image after the archive is complete.
//
// Names: an image ID or prefix → the image, no RepoTags; `repo:tag` → that tag; `repo` without a
// tag → every tag of the repository (as dockerd), or repo:latest when it has none; `repo@digest`
// → the image, no RepoTags.
//
// Thread safety: both calls may run concurrently from worker threads. A blob removed between plan
// and write (a concurrent rmi) fails write() with NotFound; the tar is then incomplete and the
// caller aborts the transfer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/metadata/records.h"

namespace imaged::content {
class Provider;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class EventLog;

struct SaveImage {
  metadata::ImageRecord image;
  std::vector<metadata::LayerRecord> layers;
  metadata::ManifestRecord manifest;   // the platform manifest (synthesised when none is stored)
  std::string synthesized_manifest;    // its bytes when it is not a stored blob
  std::vector<std::string> repo_tags;  // familiar "busybox:media"
  std::vector<std::string> full_refs;  // "docker.io/library/busybox:media", same order
};

struct SavePlan {
  std::vector<SaveImage> images;  // in the order of the names, each image once
};

// Receives the tar bytes in order; false stops the write (client gone).
using ByteSink = std::function<bool(std::string_view bytes)>;

class ImageArchiveWriter {
 public:
  ImageArchiveWriter(content::Provider& content, metadata::MetadataStore& metadata,
                     EventLog& events);

  Result<SavePlan> plan(const std::vector<std::string>& names);
  // Canceled when the sink refuses bytes; NotFound/DataLoss/Internal for store failures.
  Status write(const SavePlan& plan, const ByteSink& sink);

 private:
  content::Provider& content_;
  metadata::MetadataStore& metadata_;
  EventLog& events_;
};

}  // namespace imaged::images
