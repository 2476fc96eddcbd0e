// DELETE /images/{name} and POST /images/prune with dockerd's rmi semantics (moby
// daemon/images/image_delete.go, engine-api.md §3.6), in ONE metadata write transaction per call;
// freed blob files are unlinked through the BlobSweeper only after it has committed.
//
// remove(name, force):
//   - by reference (the name is not a prefix of the image ID): the tag or digest ref is removed
//     (Untagged: <familiar ref, :latest added>); when that was the last tag of its repository,
//     the repository's digest refs go too (Untagged each). If other refs remain, that is all.
//     Otherwise the image is deleted.
//   - by ID: if all refs are in one repository with at most one tag, they are removed and the
//     image deleted. Otherwise 409 Conflict "conflict: unable to delete <short id> (must be
//     forced) - image is referenced in multiple repositories", unless force: then every ref is
//     untagged and the image deleted.
//   - items: Untagged… (in dockerd's order), then Deleted <image id>, then Deleted <chain ID>
//     for each layer whose blob was freed (top layer first), as dockerd names released layers.
//   - events: untag (Attributes.name = image ID, as dockerd) per ref removed through the name or
//     the ID, delete once; not for the digest refs cleaned up after a last tag (dockerd neither).
// prune(options): dangling_only (default) removes images without tags (digest-only ones too, by
//   removing their digest refs); otherwise every image (none is used by a container). until keeps
//   images created after it; labels / label_not as dockerd's prune. One pass reaches the fixed
//   point (there are no parent chains). SpaceReclaimed = unpacked bytes (diff_size(), dockerd's
//   DiffSize) of the layer blobs freed (consistent with Size and `system df`). Event prune with
//   Attributes.reclaimed.
// Containers (image_users.h), as moby: removing the single reference of an image a container
//   uses is 409 "conflict: unable to remove repository reference \"x\" (must force) - container
//   <c> is using its referenced image <i>"; deleting it by ID is 409 "conflict: unable to delete
//   <i> (must be forced) - image is being used by stopped container <c>" ("(cannot be forced)"
//   and "running container" when it runs). With force, a stopped container's image is deleted;
//   a running one's is only untagged. prune skips images in use.
// `noprune` is accepted and has no effect: imaged images have no parent chain to prune.
//
// Errors: as lookup_image; Conflict as above; store errors (nothing changed then).
// Thread safety: concurrent calls are serialised by the metadata writer.
#pragma once

#include <atomic>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"

namespace imaged::metadata {
class MetadataStore;
}

namespace imaged::images {

class BlobSweeper;
class EventLog;
class ImageUsers;

class ImageRemover {
 public:
  ImageRemover(metadata::MetadataStore& metadata, EventLog& events, BlobSweeper& sweeper)
      : metadata_(metadata), events_(events), sweeper_(sweeper) {}

  Result<std::vector<DeleteItem>> remove(std::string_view name, bool force);
  Result<PruneReport> prune(const PruneOptions& options);
  // Who uses images; set once before serving (none: no container rules).
  void set_users(const ImageUsers* users) { users_ = users; }

 private:
  std::atomic<const ImageUsers*> users_{nullptr};
  metadata::MetadataStore& metadata_;
  EventLog& events_;
  BlobSweeper& sweeper_;
};

}  // namespace imaged::images
