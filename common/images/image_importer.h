// ImageImporter: `docker import` (POST /images/create?fromSrc=…), as moby's ImageService
// ImportImage builds an image from a root filesystem tarball:
//   - the upload (plain tar, or gzip/bzip2/xz/zstd compressed: libarchive sniffs the filter) is
//     ONE layer; its diff_id is the sha256 of the uncompressed bytes as uploaded, and it is
//     stored as a gzip-compressed blob (application/vnd.docker.image.rootfs.diff.tar.gzip);
//   - the config: os/architecture/variant from the request's platform, created = now,
//     docker_version, comment and one history entry {created, comment} with the message
//     ("Imported from <source>" by default), the container config from the Dockerfile `changes`
//     (dockerfile_changes.h); its keys sorted as moby's Image.MarshalJSON writes them;
//   - a docker schema2 manifest synthesised as for a loaded legacy archive (manifest_synth.h);
//   - rows in one transaction (image_records.h), then the tag (image_tagger.h: `tag` event) and
//     the `import` event (Actor.ID = name = the image ID).
// All or nothing: blobs this import committed and no row references are removed on failure.
//
// Errors: InvalidArgument for bad changes (before any byte is read), an upload that is not a tar
// (nothing stored), a compressed stream that does not decompress; Unavailable/Internal for the
// store. Thread safety: import() may run concurrently. The stores and event log outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/digest.h"
#include "common/error.h"
#include "common/images/image_loader.h"
#include "common/oci.h"
#include "common/reference.h"

namespace imaged::images {

struct ImportRequest {
  std::string source = "-";          // fromSrc: "-" (the request body) or the URL it came from
  std::optional<Reference> tag;      // repo[:tag] to tag the image with (no digest)
  std::string message;               // history comment; empty: "Imported from <source>"
  std::vector<std::string> changes;  // Dockerfile instructions (dockerfile_changes.h)
  oci::Platform platform;            // os/architecture/variant of the config
};

struct ImageImporterOptions {
  std::string docker_version;  // the config's docker_version (the daemon's version)
};

class ImageImporter {
 public:
  ImageImporter(content::Store& content, metadata::MetadataStore& metadata, EventLog& events,
                BlobSweeper* sweeper = nullptr, ImageImporterOptions options = {});

  // Reads the whole upload from `source` and stores the image; returns its ID.
  Result<Digest> import(const ImportRequest& request, const ByteSource& source);

 private:
  content::Store& content_;
  metadata::MetadataStore& metadata_;
  EventLog& events_;
  BlobSweeper* sweeper_;
  ImageImporterOptions options_;
};

}  // namespace imaged::images
