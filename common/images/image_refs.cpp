#include "common/images/image_refs.h"

#include <algorithm>
#include <cstring>

#include "common/metadata/transaction.h"
#include "common/reference.h"

namespace imaged::images {

const std::string& FamiliarNames::repository(std::string_view repository) {
  if (last_value_ && repository == last_key_) return *last_value_;
  last_key_.assign(repository);
  auto it = cache_.find(last_key_);
  if (it == cache_.end()) {
    std::string familiar(repository);
    if (auto parsed = parse_canonical_reference(repository)) familiar = parsed->familiar_name();
    it = cache_.emplace(last_key_, std::move(familiar)).first;
  }
  last_value_ = &it->second;  // node-based map: stable
  return *last_value_;
}

std::string FamiliarNames::tag_ref(std::string_view repo, std::string_view tag) {
  const std::string& name = repository(repo);
  std::string out;
  out.reserve(name.size() + 1 + tag.size());
  out.append(name).append(1, ':').append(tag);
  return out;
}

std::string FamiliarNames::digest_ref(std::string_view repo, std::string_view digest) {
  const std::string& name = repository(repo);
  std::string out;
  out.reserve(name.size() + 1 + digest.size());
  out.append(name).append(1, '@').append(digest);
  return out;
}

bool concat_less(std::string_view a1, std::string_view a2, std::string_view a3, std::string_view b1,
                 std::string_view b2, std::string_view b3) {
  const std::string_view a[3] = {a1, a2, a3};
  const std::string_view b[3] = {b1, b2, b3};
  size_t ai = 0, bi = 0;
  std::string_view as = a[0], bs = b[0];
  while (true) {
    while (as.empty() && ai < 3) as = ++ai < 3 ? a[ai] : std::string_view();
    while (bs.empty() && bi < 3) bs = ++bi < 3 ? b[bi] : std::string_view();
    if (ai == 3 || bi == 3) return ai == 3 && bi != 3;
    // Compare the overlapping part of the current segments in one memcmp.
    const size_t n = std::min(as.size(), bs.size());
    if (const int c = std::memcmp(as.data(), bs.data(), n); c != 0) return c < 0;
    as.remove_prefix(n);
    bs.remove_prefix(n);
  }
}

bool full_ref_less(const ImageRef& a, const ImageRef& b) {
  if (a.repository == b.repository && a.is_digest() == b.is_digest())
    return a.is_digest() ? a.digest < b.digest : a.tag < b.tag;
  return concat_less(a.repository, a.is_digest() ? "@" : ":", a.is_digest() ? a.digest : a.tag,
                     b.repository, b.is_digest() ? "@" : ":", b.is_digest() ? b.digest : b.tag);
}

Result<std::vector<ImageRef>> refs_of(const metadata::ReadTx& tx, std::string_view image_id) {
  auto tags = IMAGED_TRY(tx.tag_names_of(image_id));
  auto digests = IMAGED_TRY(tx.repo_digests_of(image_id));
  std::vector<ImageRef> out;
  out.reserve(tags.size() + digests.size());
  for (auto& t : tags) out.push_back(ImageRef{std::move(t.repository), std::move(t.tag), {}});
  for (auto& d : digests) out.push_back(ImageRef{std::move(d.repository), {}, std::move(d.digest)});
  // Rows come ordered by (repository, name); that is the full-string order except around
  // repositories that prefix one another, so the sort is usually skipped.
  if (!std::is_sorted(out.begin(), out.end(), full_ref_less))
    std::sort(out.begin(), out.end(), full_ref_less);
  return out;
}

bool is_image_id_prefix(std::string_view image_id, std::string_view name) {
  if (image_id.starts_with(name)) return true;
  if (auto colon = image_id.find(':'); colon != std::string_view::npos)
    return image_id.substr(colon + 1).starts_with(name);
  return false;
}

std::string short_image_id(std::string_view image_id) {
  if (auto colon = image_id.find(':'); colon != std::string_view::npos)
    image_id.remove_prefix(colon + 1);
  return std::string(image_id.substr(0, 12));
}

}  // namespace imaged::images
