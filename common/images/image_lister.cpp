#include "common/images/image_lister.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include "common/images/image_index.h"
#include "common/images/image_lookup.h"
#include "common/images/image_refs.h"
#include "common/metadata/transaction.h"
#include "common/reference.h"

namespace imaged::images {

namespace {

int64_t to_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

Result<int64_t> created_ns_of(const metadata::ReadTx& tx, const std::string& name) {
  const LookupResult found = IMAGED_TRY(lookup_image(tx, name));
  return IMAGED_TRY(tx.get_image(found.image_id)).created_ns;
}

// FamiliarMatch over a list of patterns (OR): a pattern matches the familiar ref
// ("busybox:musl") or its familiar repository name ("busybox"). The name half is the same for
// every ref of a repository, and refs come grouped by repository: it is computed once per run.
class RefMatcher {
 public:
  explicit RefMatcher(const std::vector<std::string>& patterns) : patterns_(patterns) {
    // The literal head of each pattern (up to its first meta character): path.Match is
    // anchored, so a ref that does not start with it cannot match — a cheap first test.
    for (const std::string& p : patterns_) heads_.push_back(p.substr(0, p.find_first_of("*?[\\")));
  }

  // `familiar` is the ref ("busybox:musl"), its first `name_len` characters the repository.
  Result<bool> matches(std::string_view familiar, size_t name_len) {
    const std::string_view name = familiar.substr(0, name_len);
    if (!has_last_ || name != last_name_) {
      last_name_.assign(name);
      has_last_ = true;
      name_matches_ = false;
      for (const std::string& p : patterns_)
        if (IMAGED_TRY(path_match(p, name))) name_matches_ = true;
    }
    if (name_matches_) return true;
    for (size_t i = 0; i < patterns_.size(); ++i) {
      if (!familiar.starts_with(heads_[i])) continue;
      if (IMAGED_TRY(path_match(patterns_[i], familiar))) return true;
    }
    return false;
  }

 private:
  const std::vector<std::string>& patterns_;
  std::vector<std::string> heads_;
  std::string last_name_;  // refs come grouped by repository: the name half is computed once
  bool has_last_ = false;
  bool name_matches_ = false;
};

}  // namespace

nlohmann::json labels_json_value(const std::string& labels_json) {
  if (labels_json.empty() || labels_json == "{}" || labels_json == "null") return nullptr;
  auto j = nlohmann::json::parse(labels_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || j.empty()) return nullptr;
  return j;
}

bool match_kv_list(const std::vector<std::string>& items, const nlohmann::json& labels) {
  if (items.empty()) return true;
  if (!labels.is_object() || labels.empty()) return false;
  for (const std::string& item : items) {
    const auto eq = item.find('=');
    auto it = labels.find(item.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos) {
      if (!it->is_string() || it->get<std::string>() != item.substr(eq + 1)) return false;
    }
  }
  return true;
}

Result<std::vector<ImageSummary>> list_images(const metadata::ReadTx& tx,
                                              const ListOptions& options, bool with_shared_size) {
  return list_images(tx, IMAGED_TRY(build_image_index(tx)), options, with_shared_size);
}

Result<std::vector<ImageSummary>> list_images(const metadata::ReadTx& tx, const ImageIndex& index,
                                              const ListOptions& options, bool with_shared_size) {
  // 1. Reference points of before/since (dockerd resolves them first: unknown → 404).
  std::optional<int64_t> before_ns, since_ns;
  if (options.before) before_ns = IMAGED_TRY(created_ns_of(tx, *options.before));
  if (options.since) since_ns = IMAGED_TRY(created_ns_of(tx, *options.since));
  std::optional<int64_t> until_ns;
  if (options.until) until_ns = to_ns(*options.until);

  const bool dangling_only = options.dangling.value_or(false);
  const bool filter_refs = !options.references.empty();
  RefMatcher matcher(options.references);
  std::vector<ImageSummary> out;
  out.reserve(index.images.size());

  for (const IndexedImage& img : index.images) {
    const metadata::ImageRecord& r = img.record;
    // 2. Filters on the image itself.
    if (before_ns && r.created_ns >= *before_ns) continue;
    if (since_ns && r.created_ns <= *since_ns) continue;
    if (until_ns && r.created_ns >= *until_ns) continue;
    if (!options.labels.empty() && !match_kv_list(options.labels, img.labels)) continue;
    if (!options.label_not.empty() && match_kv_list(options.label_not, img.labels)) continue;

    // 3. Its names, narrowed by the reference filter.
    std::vector<std::string> repo_tags, repo_digests;
    if (!filter_refs) {
      repo_tags = img.tags;
      repo_digests = img.digests;
    } else {
      for (size_t i = 0; i < img.tags.size(); ++i)
        if (IMAGED_TRY(matcher.matches(img.tags[i], img.tag_name_len[i])))
          repo_tags.push_back(img.tags[i]);
      for (size_t i = 0; i < img.digests.size(); ++i)
        if (IMAGED_TRY(matcher.matches(img.digests[i], img.digest_name_len[i])))
          repo_digests.push_back(img.digests[i]);
    }

    // 4. Dangling rules (dockerd: untagged AND undigested images are dangling; digest-only
    //    images have no tag and show up under dangling=true too).
    if (repo_tags.empty() && repo_digests.empty()) {
      if (options.dangling && !dangling_only) continue;
      if (filter_refs) continue;
    } else if (dangling_only && !repo_tags.empty()) {
      continue;
    }

    ImageSummary s{.id = IMAGED_TRY(Digest::parse(r.id))};
    s.repo_tags = std::move(repo_tags);
    s.repo_digests = std::move(repo_digests);
    s.created = r.created_ns / 1'000'000'000;
    s.size = r.size;
    if (with_shared_size) s.shared_size = img.shared_size;
    s.labels = img.labels;
    s.containers = 0;
    out.push_back(std::move(s));
  }
  return out;
}

Result<DiskUsage> disk_usage(const metadata::ReadTx& tx, const ImageIndex& index) {
  DiskUsage du;
  du.layers_size = IMAGED_TRY(tx.usage()).layers_diff_size;
  du.images = IMAGED_TRY(list_images(tx, index, ListOptions{}, /*with_shared_size=*/true));
  return du;
}

}  // namespace imaged::images
