#include "common/images/image_lister.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <unordered_map>

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

// FamiliarMatch over a list of patterns (OR). `familiar` is the familiar ref ("busybox:musl"),
// `familiar_name` its repository ("busybox").
Result<bool> matches_any(const std::vector<std::string>& patterns, std::string_view familiar,
                         std::string_view familiar_name) {
  for (const std::string& p : patterns) {
    if (IMAGED_TRY(path_match(p, familiar))) return true;
    if (IMAGED_TRY(path_match(p, familiar_name))) return true;
  }
  return false;
}

struct Grouped {
  std::unordered_map<std::string_view, std::vector<const metadata::TagRecord*>> tags;
  std::unordered_map<std::string_view, std::vector<const metadata::RepoDigestRecord*>> digests;
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
  // 1. Reference points of before/since (dockerd resolves them first: unknown → 404).
  std::optional<int64_t> before_ns, since_ns;
  if (options.before) before_ns = IMAGED_TRY(created_ns_of(tx, *options.before));
  if (options.since) since_ns = IMAGED_TRY(created_ns_of(tx, *options.since));
  std::optional<int64_t> until_ns;
  if (options.until) until_ns = to_ns(*options.until);

  // 2. One scan of each table, names grouped by image.
  const auto images = IMAGED_TRY(tx.list_images());
  const auto tags = IMAGED_TRY(tx.list_tags());
  const auto digests = IMAGED_TRY(tx.list_repo_digests());
  std::unordered_map<std::string, int64_t> shared;
  if (with_shared_size) shared = IMAGED_TRY(tx.shared_sizes());
  Grouped by;
  by.tags.reserve(images.size());
  for (const auto& t : tags) by.tags[t.image_id].push_back(&t);
  for (const auto& d : digests) by.digests[d.image_id].push_back(&d);

  const bool dangling_only = options.dangling.value_or(false);
  const bool filter_refs = !options.references.empty();
  FamiliarNames names;
  std::vector<ImageSummary> out;
  out.reserve(images.size());

  for (const metadata::ImageRecord& img : images) {
    // 3. Filters on the image itself.
    if (before_ns && img.created_ns >= *before_ns) continue;
    if (since_ns && img.created_ns <= *since_ns) continue;
    if (until_ns && img.created_ns >= *until_ns) continue;
    nlohmann::json labels = labels_json_value(img.labels_json);
    if (!options.labels.empty() && !match_kv_list(options.labels, labels)) continue;
    if (!options.label_not.empty() && match_kv_list(options.label_not, labels)) continue;

    // 4. Its names, sorted by full reference and narrowed by the reference filter.
    std::vector<std::string> repo_tags, repo_digests;
    if (auto it = by.tags.find(img.id); it != by.tags.end()) {
      auto& list = it->second;
      std::sort(list.begin(), list.end(), [](const auto* a, const auto* b) {
        return concat_less(a->repository, ":", a->tag, b->repository, ":", b->tag);
      });
      repo_tags.reserve(list.size());
      for (const auto* t : list) {
        std::string familiar = names.tag_ref(t->repository, t->tag);
        if (filter_refs &&
            !IMAGED_TRY(matches_any(options.references, familiar, names.repository(t->repository))))
          continue;
        repo_tags.push_back(std::move(familiar));
      }
    }
    if (auto it = by.digests.find(img.id); it != by.digests.end()) {
      auto& list = it->second;
      std::sort(list.begin(), list.end(), [](const auto* a, const auto* b) {
        return concat_less(a->repository, "@", a->digest, b->repository, "@", b->digest);
      });
      for (const auto* d : list) {
        std::string familiar = names.digest_ref(d->repository, d->digest);
        if (filter_refs &&
            !IMAGED_TRY(matches_any(options.references, familiar, names.repository(d->repository))))
          continue;
        repo_digests.push_back(std::move(familiar));
      }
    }

    // 5. Dangling rules (dockerd: untagged AND undigested images are dangling; digest-only
    //    images have no tag and show up under dangling=true too).
    if (repo_tags.empty() && repo_digests.empty()) {
      if (options.dangling && !dangling_only) continue;
      if (filter_refs) continue;
    } else if (dangling_only && !repo_tags.empty()) {
      continue;
    }

    ImageSummary s{.id = IMAGED_TRY(Digest::parse(img.id))};
    s.repo_tags = std::move(repo_tags);
    s.repo_digests = std::move(repo_digests);
    s.created = img.created_ns / 1'000'000'000;
    s.size = img.size;
    if (with_shared_size) {
      auto sh = shared.find(img.id);
      s.shared_size = sh == shared.end() ? 0 : sh->second;
    }
    s.labels = std::move(labels);
    s.containers = 0;
    out.push_back(std::move(s));
  }
  return out;
}

Result<DiskUsage> disk_usage(const metadata::ReadTx& tx) {
  DiskUsage du;
  du.layers_size = IMAGED_TRY(tx.usage()).layers_uncompressed_size;
  du.images = IMAGED_TRY(list_images(tx, ListOptions{}, /*with_shared_size=*/true));
  return du;
}

}  // namespace imaged::images
