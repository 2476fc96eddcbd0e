// ImageIndex: every image with its names in list order — what GET /images/json, /system/df and
// inspect derive from the images, tags and repo_digests tables — built from one read of them
// (one indexed scan each, plus one grouped query for shared sizes) and valid for exactly one
// metadata names_version. ImageIndexCache keeps the latest index, so that listing 10k+ tags
// costs one row read (the version check) plus filtering, until a name changes.
//
// Exactness: the version is bumped by triggers on every committed change of those tables,
// whatever process makes it, and is read in the same transaction as everything else the caller
// reads; an index is only ever used for the version it was built from.
//
// Thread safety: ImageIndex is immutable once built (shared as shared_ptr<const>);
// ImageIndexCache's methods may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/metadata/records.h"

namespace imaged::metadata {
class ReadTx;
}

namespace imaged::images {

struct IndexedImage {
  metadata::ImageRecord record;
  nlohmann::json labels;               // null or an object
  std::vector<std::string> tags;       // familiar ("busybox:musl"), sorted by full reference
  std::vector<std::string> digests;    // familiar ("busybox@sha256:…"), sorted by full reference
  std::vector<uint32_t> tag_name_len;  // length of the familiar repository in tags[i]
  std::vector<uint32_t> digest_name_len;  // length of the familiar repository in digests[i]
  int64_t shared_size = 0;                // unpacked bytes of its layers other images also use
};

struct ImageIndex {
  int64_t version = -1;              // the names_version it was built from
  std::vector<IndexedImage> images;  // newest first (created, then id)
  std::unordered_map<std::string, size_t> by_id;

  const IndexedImage* find(std::string_view id) const;
};

// Builds the index from the transaction's snapshot.
Result<ImageIndex> build_image_index(const metadata::ReadTx& tx);

class ImageIndexCache {
 public:
  // The index for the transaction's snapshot: the cached one when its version matches, else a
  // new one built from `tx` (and kept when it is newer than the cached one).
  Result<std::shared_ptr<const ImageIndex>> get(const metadata::ReadTx& tx);
  // The cached index if it matches the transaction's snapshot, else null (never builds: for
  // callers that need one image's names and can read them more cheaply themselves).
  Result<std::shared_ptr<const ImageIndex>> peek(const metadata::ReadTx& tx);

 private:
  std::mutex mu_;
  std::shared_ptr<const ImageIndex> current_;  // guarded by mu_
};

}  // namespace imaged::images
