// ImageLoader: `docker load` (POST /images/load). Reads a tar (plain, or gzip/bzip2/xz
// compressed: libarchive sniffs the filter) holding either
//   - docker's legacy archive: manifest.json [{"Config":"<id>.json","RepoTags":[…],
//     "Layers":["<v1id>/layer.tar",…]}] (layers uncompressed or compressed), or
//   - an OCI image layout (oci-layout, index.json, blobs/sha256/…), possibly with manifest.json
//     alongside (moby 25+ `docker save`).
// Every blob is verified (file digest = its name for OCI blobs, descriptor sizes, config
// rootfs.diff_ids = the layers' uncompressed digests). A legacy layer is stored as the bytes it
// is (an uncompressed layer.tar becomes a layer blob of media type
// application/vnd.docker.image.rootfs.diff.tar) and a docker schema2 manifest is synthesised for
// the image; an OCI image keeps its manifest bytes. Tags come from RepoTags and the index's
// io.containerd.image.name / org.opencontainers.image.ref.name annotations; repo digests from
// the index's named manifests.
//
// All or nothing: entries stream into content-store ingests (bounded memory: only small JSON
// files are kept in memory); nothing is committed until the whole archive has been read and
// verified; blobs are committed, then every image row, tag, repo digest and `load` event goes in
// ONE metadata transaction. On any failure every ingest is aborted, blobs this load committed
// and no row references are removed, and nothing is recorded.
//
// Refused (InvalidArgument, naming the entry): not a tar, truncated tar, absolute paths or "..",
// links, devices, fifos, entries larger than max_entry_size, paths deeper than max_depth, more
// than max_entries entries, nested indexes deeper than 2, a manifest naming a missing blob,
// digest or size mismatches, diff_id mismatches, no manifest.json and no index.json.
//
// Thread safety: load() may run concurrently. Lifetime: stores and event log outlive the loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/images/archive_api.h"

namespace imaged::content {
class Store;
}
namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class BlobSweeper;
class EventLog;

struct ImageLoaderOptions {
  int64_t max_entry_size = int64_t{64} << 30;  // 64 GiB per tar entry / declared blob size
  int max_entries = 100'000;
  int max_depth = 16;            // path components
  size_t max_json = 8 << 20;     // bytes of one JSON file kept in memory
  size_t max_memory = 64 << 20;  // bytes of all JSON files kept in memory
  int max_open_files = 512;      // non-JSON entries streamed to ingests at once
};

class ImageLoader {
 public:
  ImageLoader(content::Store& content, metadata::MetadataStore& metadata, EventLog& events,
              BlobSweeper* sweeper = nullptr, ImageLoaderOptions options = {});

  // Loads the archive; returns the lines to report ("Loaded image: busybox:media",
  // "Loaded image ID: sha256:…"), in order.
  Result<std::vector<std::string>> load(const ByteSource& source);

 private:
  content::Store& content_;
  metadata::MetadataStore& metadata_;
  EventLog& events_;
  BlobSweeper* sweeper_;
  ImageLoaderOptions options_;
};

}  // namespace imaged::images
