// The names of an image as dockerd's reference store lists them: tags (repository:tag) and
// digest references (repository@sha256:…), in familiar form for output.
//
// Repositories are stored fully qualified ("docker.io/library/busybox"); FamiliarNames turns
// them into what docker prints ("busybox") and caches the result per repository, so listing
// 10k tags parses each repository once. Not thread-safe (one per operation).
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.h"

namespace imaged::metadata {
class ReadTx;
}

namespace imaged::images {

// One name of an image: a tag (tag set) or a digest reference (digest set).
struct ImageRef {
  std::string repository;  // "docker.io/library/busybox"
  std::string tag;         // "musl", or empty for a digest reference
  std::string digest;      // "sha256:…" for a digest reference, else empty

  bool is_digest() const { return !digest.empty(); }
  // The full string dockerd sorts by: "docker.io/library/busybox:musl" / "…@sha256:…".
  std::string full() const { return repository + (is_digest() ? "@" + digest : ":" + tag); }
};

class FamiliarNames {
 public:
  // "docker.io/library/busybox" → "busybox"; "localhost:5000/x" unchanged. A repository that
  // does not parse (never written by imaged) is returned as stored.
  const std::string& repository(std::string_view repository);
  std::string tag_ref(std::string_view repository, std::string_view tag);        // busybox:musl
  std::string digest_ref(std::string_view repository, std::string_view digest);  // busybox@…
  std::string ref(const ImageRef& r) {
    return r.is_digest() ? digest_ref(r.repository, r.digest) : tag_ref(r.repository, r.tag);
  }

 private:
  std::unordered_map<std::string, std::string> cache_;
  // The last lookup: rows come grouped by repository, so most lookups repeat it.
  std::string last_key_;
  const std::string* last_value_ = nullptr;
};

// Every name of the image, tags and digest references together, sorted by full() as dockerd's
// reference store sorts them (References()). Empty for an unknown image.
Result<std::vector<ImageRef>> refs_of(const metadata::ReadTx& tx, std::string_view image_id);

// Sorts by full() without building the strings.
bool full_ref_less(const ImageRef& a, const ImageRef& b);
// a1+a2+a3 < b1+b2+b3, compared without concatenating.
bool concat_less(std::string_view a1, std::string_view a2, std::string_view a3, std::string_view b1,
                 std::string_view b2, std::string_view b3);

// dockerd's isImageIDPrefix: `name` is a prefix of "sha256:<hex>" or of "<hex>".
bool is_image_id_prefix(std::string_view image_id, std::string_view name);

// "sha256:<hex>" → the first 12 hex characters (stringid.TruncateID).
std::string short_image_id(std::string_view image_id);

}  // namespace imaged::images
