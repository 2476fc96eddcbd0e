// Typed access to meta.db inside one transaction. Obtain a ReadTx from MetadataStore::read and a
// WriteTx from MetadataStore::write; neither can be created, copied or kept elsewhere, and both
// are valid only inside the callback they are handed to.
//
// Thread safety: a Tx belongs to the thread running the callback.
// Errors: every method returns Result/Status. InvalidArgument for malformed input (ids must be
// "sha256:<64 hex>"), NotFound for a missing image/tag/digest where noted, Conflict for what the
// state forbids, DataLoss for inconsistencies found in the store, Unavailable/Internal from
// SQLite. A WriteTx method that fails leaves the transaction exactly as it was before the call
// (each runs in its own SAVEPOINT), so the callback may handle the error and go on.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.h"
#include "common/metadata/records.h"
#include "common/metadata/sqlite.h"

namespace imaged::metadata {

class MetadataStore;

class ReadTx {
 public:
  ReadTx(const ReadTx&) = delete;
  ReadTx& operator=(const ReadTx&) = delete;

  // --- images ---
  // NotFound "No such image: <id>" when absent.
  Result<ImageRecord> get_image(std::string_view id) const;
  // Full ids ("sha256:...") whose hex starts with `hex_prefix` (lower-case hex, 1-64 chars, an
  // optional "sha256:" in front), sorted, at most `limit`. Ask for 2 to detect ambiguity.
  // InvalidArgument for a malformed prefix. One range scan of the primary key.
  Result<std::vector<std::string>> find_image_ids_by_prefix(std::string_view hex_prefix,
                                                            int64_t limit) const;
  // Every image, newest created first (ties by id).
  Result<std::vector<ImageRecord>> list_images() const;
  Result<int64_t> image_count() const;
  // In position order / index first then manifests; empty for an unknown image.
  Result<std::vector<LayerRecord>> layers_of(std::string_view image_id) const;
  Result<std::vector<ManifestRecord>> manifests_of(std::string_view image_id) const;

  // --- names ---
  // Every tag, ordered by (repository, tag): one scan of the primary key.
  Result<std::vector<TagRecord>> list_tags() const;
  Result<std::vector<RepoDigestRecord>> list_repo_digests() const;
  Result<std::vector<TagRecord>> tags_of(std::string_view image_id) const;
  Result<std::vector<RepoDigestRecord>> repo_digests_of(std::string_view image_id) const;
  // tags_of without tagged_ns (left 0), answered from the tags_by_image index alone: no table
  // lookup per tag, for readers of names only (inspect, history, rmi) on images with many tags.
  Result<std::vector<TagRecord>> tag_names_of(std::string_view image_id) const;
  // The image a name points to; nullopt when there is no such name.
  Result<std::optional<std::string>> resolve_tag(std::string_view repository,
                                                 std::string_view tag) const;
  Result<std::optional<std::string>> resolve_repo_digest(std::string_view repository,
                                                         std::string_view digest) const;
  // Changes of one tag, newest first, at most `limit`.
  Result<std::vector<TagMove>> tag_history(std::string_view repository, std::string_view tag,
                                           int64_t limit) const;

  // A counter that every committed change of the images, tags or repo_digests tables increases
  // (kept by triggers, so writes by other processes count too). Equal values mean that what a
  // reader derived from those tables is still exact. One row read.
  Result<int64_t> names_version() const;

  // --- blobs, usage, GC ---
  // Number of images referencing the blob; 0 when it has no row.
  Result<int64_t> blob_refs(std::string_view digest) const;
  Result<bool> is_blob_referenced(std::string_view digest) const;
  // Every digest with a blobs row (refs > 0), sorted: the GC keep-set.
  Result<std::vector<std::string>> referenced_blobs() const;
  Result<std::vector<BlobRecord>> list_blobs() const;
  Result<StoreUsage> usage() const;
  // LayerRecord::diff_size() of the image's layers that some other image also references
  // (refs > 1), summed per layer position like Size. 0 for an unknown image.
  Result<int64_t> shared_size(std::string_view image_id) const;
  // shared_size of every image that has layers, in one grouped query.
  Result<std::unordered_map<std::string, int64_t>> shared_sizes() const;

  // --- events ---
  // Events with since_ns <= time_ns <= until_ns, oldest first, at most `limit`.
  Result<std::vector<EventRecord>> events(int64_t since_ns, int64_t until_ns, int64_t limit) const;
  // Events with id > after_id, in id order, at most `limit` (for following the log).
  Result<std::vector<EventRecord>> events_after(int64_t after_id, int64_t limit) const;

  // --- integrity ---
  // PRAGMA quick_check, PRAGMA foreign_key_check and blobs.refs against the count recomputed
  // from images, image_layers and image_manifests. DataLoss naming the first problems found.
  Status check_integrity() const;

 protected:
  explicit ReadTx(Connection& conn) : conn_(conn) {}
  Connection& conn_;

 private:
  friend class MetadataStore;
};

class WriteTx : public ReadTx {
 public:
  // Records a new image with its layers (in order) and the manifests/indexes it was pulled
  // through; computes image.size (sum of the layers' diff_size()) and image.content_size;
  // increments refs of every distinct blob it references (config, manifests, layers), creating
  // blobs rows as needed (and filling a layer row's missing unpacked_size). Returns true when
  // added, false when the id already exists (nothing is changed then).
  // InvalidArgument for malformed digests, negative sizes, a manifest listed twice, or a blob
  // whose size disagrees with the size already recorded for it.
  Result<bool> put_image(const ImageRecord& image, std::span<const LayerRecord> layers,
                         std::span<const ManifestRecord> manifests);
  // Adds manifests an existing image was (also) reached through; those already recorded are
  // skipped. Returns how many were added. NotFound for an unknown image.
  Result<int64_t> add_manifests(std::string_view image_id,
                                std::span<const ManifestRecord> manifests);

  // Points repository:tag at the image (creating or moving the tag), sets tagged_ns and the
  // image's last_tag_ns to now_ns, and records a TagMove when the target changed. Returns the
  // previous image id when the tag moved, nullopt when it was created or already there.
  // NotFound for an unknown image; InvalidArgument for an empty repository or tag.
  Result<std::optional<std::string>> set_tag(std::string_view repository, std::string_view tag,
                                             std::string_view image_id, int64_t now_ns);
  // Removes the tag and records the removal. Returns the image id it pointed to.
  // NotFound when there is no such tag.
  Result<std::string> remove_tag(std::string_view repository, std::string_view tag, int64_t now_ns);

  // Maps repository@digest to the image (inserting, or re-pointing an existing mapping: an index
  // digest resolves to a different image per platform). Returns true when a row changed.
  // NotFound for an unknown image; InvalidArgument for a malformed digest.
  Result<bool> add_repo_digest(std::string_view repository, std::string_view digest,
                               std::string_view image_id);
  // NotFound when there is no such mapping.
  Status remove_repo_digest(std::string_view repository, std::string_view digest);

  // Deletes the image with its layer and manifest rows and decrements refs of its blobs.
  // Returns the digests whose count dropped to 0 (their rows are gone), sorted: the caller
  // unlinks those files after write() has returned successfully (the commit is then synced to
  // disk, see MetadataStore::write), never before.
  // NotFound for an unknown image; Conflict while tags or repo digests still name it;
  // DataLoss if blobs.refs is inconsistent (run recompute_blob_refs).
  Result<std::vector<std::string>> delete_image(std::string_view image_id);

  // NotFound for an unknown image.
  Status touch_last_used(std::string_view image_id, int64_t now_ns);
  Status set_pinned(std::string_view image_id, bool pinned);

  // Appends an event (its id field is ignored) and returns the new id.
  Result<int64_t> append_event(const EventRecord& event);
  // Deletes events older than older_than_ns; returns how many.
  Result<int64_t> prune_events(int64_t older_than_ns);

  // Rebuilds blobs.refs from images, image_layers and image_manifests: fixes wrong counts,
  // inserts rows for referenced digests that lack one (sizes taken from the referencing rows)
  // and deletes rows nothing references (returned as orphaned: the caller may unlink them
  // after commit).
  Result<RefRepair> recompute_blob_refs();

 private:
  friend class MetadataStore;
  explicit WriteTx(Connection& conn) : ReadTx(conn) {}

  // Runs fn inside SAVEPOINT; rolls back to it when fn fails.
  template <class F>
  auto atomically(F&& fn) -> decltype(fn());

  // Set when the transaction removed blob rows: the store syncs the commit before returning so
  // that the caller may unlink files.
  bool sync_on_commit_ = false;
};

}  // namespace imaged::metadata
