#include "common/images/image_refs.h"

#include <algorithm>

#include "common/metadata/transaction.h"
#include "common/reference.h"

namespace imaged::images {

const std::string& FamiliarNames::repository(std::string_view repository) {
  auto it = cache_.find(std::string(repository));
  if (it != cache_.end()) return it->second;
  std::string familiar(repository);
  if (auto parsed = parse_canonical_reference(repository)) familiar = parsed->familiar_name();
  return cache_.emplace(std::string(repository), std::move(familiar)).first->second;
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
  size_t ai = 0, ap = 0, bi = 0, bp = 0;
  while (true) {
    while (ai < 3 && ap == a[ai].size()) ++ai, ap = 0;
    while (bi < 3 && bp == b[bi].size()) ++bi, bp = 0;
    if (ai == 3 || bi == 3) return ai == 3 && bi != 3;
    const auto ca = static_cast<unsigned char>(a[ai][ap]);
    const auto cb = static_cast<unsigned char>(b[bi][bp]);
    if (ca != cb) return ca < cb;
    ++ap, ++bp;
  }
}

bool full_ref_less(const ImageRef& a, const ImageRef& b) {
  return concat_less(a.repository, a.is_digest() ? "@" : ":", a.is_digest() ? a.digest : a.tag,
                     b.repository, b.is_digest() ? "@" : ":", b.is_digest() ? b.digest : b.tag);
}

Result<std::vector<ImageRef>> refs_of(const metadata::ReadTx& tx, std::string_view image_id) {
  auto tags = IMAGED_TRY(tx.tags_of(image_id));
  auto digests = IMAGED_TRY(tx.repo_digests_of(image_id));
  std::vector<ImageRef> out;
  out.reserve(tags.size() + digests.size());
  for (auto& t : tags) out.push_back(ImageRef{std::move(t.repository), std::move(t.tag), {}});
  for (auto& d : digests) out.push_back(ImageRef{std::move(d.repository), {}, std::move(d.digest)});
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
