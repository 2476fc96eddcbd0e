// GET /images/json and GET /system/df: image summaries filtered from an ImageIndex (one indexed
// scan each of images, tags and repo digests, cached per names_version: image_index.h), never a
// walk of the blob directory. Stays linear at 10k+ tags.
//
// Semantics follow dockerd 20.10's ImageService.Images (engine-api.md §3.1):
//   - newest first (created, then id);
//   - RepoTags / RepoDigests in familiar form, each sorted by the full reference string (as
//     dockerd's reference store sorts them);
//   - `references`: globs (path.Match) on the familiar ref or the familiar name, OR between
//     patterns; RepoTags and RepoDigests are NARROWED to the matching refs and images without a
//     matching ref are dropped;
//   - `dangling`: true keeps only images without tags (digest-only images count as dangling);
//     false drops images with neither tags nor digests;
//   - `before` / `since`: image names (NotFound as lookup_image), compared by creation time;
//   - `labels` ("k" or "k=v", AND), `label_not` (dropped when every label! item matches; an
//     imaged extension — dockerd accepts label! only for prune), `until` (created before).
// Errors: NotFound for before/since, InvalidArgument for a malformed glob, store errors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"

namespace imaged::metadata {
class ReadTx;
}

namespace imaged::images {

struct ImageIndex;

// `with_shared_size`: fill SharedSize (bytes of layers some other image also uses); otherwise
// it stays -1 ("not computed", dockerd's value without shared-size=1).
Result<std::vector<ImageSummary>> list_images(const metadata::ReadTx& tx,
                                              const ListOptions& options, bool with_shared_size);

// The same over an index the caller already holds (ImageIndexCache); `tx` is used for the
// before/since lookups and must be the transaction the index was validated in.
Result<std::vector<ImageSummary>> list_images(const metadata::ReadTx& tx, const ImageIndex& index,
                                              const ListOptions& options, bool with_shared_size);

// GET /system/df: every image with SharedSize computed and the real container count (0), plus
// LayersSize = unpacked bytes (dockerd's DiffSize) of the distinct layer blobs (each counted
// once, from the blobs table's reference counts).
Result<DiskUsage> disk_usage(const metadata::ReadTx& tx, const ImageIndex& index);

// Labels of an image record as the API shows them: null when there are none, else an object.
nlohmann::json labels_json_value(const std::string& labels_json);

// moby's filters.MatchKVList: true when `items` is empty; false when `labels` is empty; else
// every "k" is a key of labels and every "k=v" has that value.
bool match_kv_list(const std::vector<std::string>& items, const nlohmann::json& labels);

}  // namespace imaged::images
