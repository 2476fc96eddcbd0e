#include "common/images/image_index.h"

#include <algorithm>

#include "common/images/image_lister.h"
#include "common/images/image_refs.h"
#include "common/metadata/transaction.h"

namespace imaged::images {

const IndexedImage* ImageIndex::find(std::string_view id) const {
  auto it = by_id.find(std::string(id));
  return it == by_id.end() ? nullptr : &images[it->second];
}

Result<ImageIndex> build_image_index(const metadata::ReadTx& tx) {
  ImageIndex index;
  index.version = IMAGED_TRY(tx.names_version());
  auto images = IMAGED_TRY(tx.list_images());
  const auto tags = IMAGED_TRY(tx.list_tags());
  const auto digests = IMAGED_TRY(tx.list_repo_digests());
  const auto shared = IMAGED_TRY(tx.shared_sizes());

  // 1. Images in list order.
  index.images.reserve(images.size());
  index.by_id.reserve(images.size());
  for (auto& record : images) {
    IndexedImage entry;
    entry.labels = labels_json_value(record.labels_json);
    if (auto it = shared.find(record.id); it != shared.end()) entry.shared_size = it->second;
    index.by_id.emplace(record.id, index.images.size());
    entry.record = std::move(record);
    index.images.push_back(std::move(entry));
  }

  // 2. Names, grouped by image. Rows come ordered by (repository, name), which is the order of
  //    the full reference strings except around repositories that prefix one another: the
  //    per-image sort below is then usually a no-op check.
  FamiliarNames names;
  auto entry_of = [&](const std::string& image_id) -> IndexedImage* {
    auto it = index.by_id.find(image_id);
    return it == index.by_id.end() ? nullptr : &index.images[it->second];
  };
  std::vector<std::vector<const metadata::TagRecord*>> tags_by(index.images.size());
  std::vector<std::vector<const metadata::RepoDigestRecord*>> digests_by(index.images.size());
  {
    const std::string* last_id = nullptr;
    size_t last = 0;
    for (const auto& t : tags) {
      if (!last_id || *last_id != t.image_id) {
        auto it = index.by_id.find(t.image_id);
        if (it == index.by_id.end()) continue;  // cannot happen (foreign key)
        last_id = &t.image_id;
        last = it->second;
      }
      tags_by[last].push_back(&t);
    }
  }
  for (const auto& d : digests)
    if (IndexedImage* e = entry_of(d.image_id)) digests_by[e - index.images.data()].push_back(&d);

  for (size_t i = 0; i < index.images.size(); ++i) {
    IndexedImage& e = index.images[i];
    auto& tl = tags_by[i];
    const auto tag_less = [](const auto* a, const auto* b) {
      if (a->repository == b->repository) return a->tag < b->tag;
      return concat_less(a->repository, ":", a->tag, b->repository, ":", b->tag);
    };
    if (!std::is_sorted(tl.begin(), tl.end(), tag_less)) std::sort(tl.begin(), tl.end(), tag_less);
    e.tags.reserve(tl.size());
    e.tag_name_len.reserve(tl.size());
    for (const auto* t : tl) {
      e.tag_name_len.push_back(static_cast<uint32_t>(names.repository(t->repository).size()));
      e.tags.push_back(names.tag_ref(t->repository, t->tag));
    }
    auto& dl = digests_by[i];
    const auto digest_less = [](const auto* a, const auto* b) {
      if (a->repository == b->repository) return a->digest < b->digest;
      return concat_less(a->repository, "@", a->digest, b->repository, "@", b->digest);
    };
    if (!std::is_sorted(dl.begin(), dl.end(), digest_less))
      std::sort(dl.begin(), dl.end(), digest_less);
    for (const auto* d : dl) {
      e.digest_name_len.push_back(static_cast<uint32_t>(names.repository(d->repository).size()));
      e.digests.push_back(names.digest_ref(d->repository, d->digest));
    }
  }
  return index;
}

Result<std::shared_ptr<const ImageIndex>> ImageIndexCache::get(const metadata::ReadTx& tx) {
  if (auto hit = IMAGED_TRY(peek(tx))) return hit;
  auto built = std::make_shared<const ImageIndex>(IMAGED_TRY(build_image_index(tx)));
  std::lock_guard lock(mu_);
  if (!current_ || built->version > current_->version) current_ = built;
  return built;
}

Result<std::shared_ptr<const ImageIndex>> ImageIndexCache::peek(const metadata::ReadTx& tx) {
  const int64_t version = IMAGED_TRY(tx.names_version());
  std::lock_guard lock(mu_);
  if (current_ && current_->version == version) return current_;
  return std::shared_ptr<const ImageIndex>();
}

}  // namespace imaged::images
