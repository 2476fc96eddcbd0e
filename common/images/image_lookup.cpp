#include "common/images/image_lookup.h"

#include <algorithm>

#include "common/digest.h"
#include "common/metadata/transaction.h"

namespace imaged::images {

namespace {

bool is_lower_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// The text dockerd prints for a missing image: the familiar reference with :latest added when
// it has neither tag nor digest; digests and unparsable names as typed.
std::string display_name(std::string_view name) {
  if (is_sha256_hex(name)) return "sha256:" + std::string(name);
  if (name.starts_with("sha256:") && is_sha256_hex(name.substr(7))) return std::string(name);
  if (auto ref = Reference::parse(name)) return ref->with_default_tag().familiar();
  return std::string(name);
}

}  // namespace

Error no_such_image(std::string_view name) {
  return Error{Errc::NotFound, "No such image: " + display_name(name)};
}

Result<LookupResult> lookup_image(const metadata::ReadTx& tx, std::string_view name) {
  if (name.empty()) return fail(Errc::InvalidArgument, "invalid reference format");

  // 1. A full image ID.
  std::string_view hex = name;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  if (is_sha256_hex(hex) && (hex.size() != name.size() || name.size() == 64)) {
    std::string id = "sha256:" + std::string(hex);
    auto image = tx.get_image(id);
    if (image) return LookupResult{std::move(id), std::nullopt};
    if (image.error().code != Errc::NotFound) return fail(image.error());
    return fail(no_such_image(name));
  }

  // 2. A reference: tags, then repo digests (the digest wins over a tag).
  Reference ref = IMAGED_TRY(Reference::parse(name));
  const Reference key = ref.docker_ref();
  std::optional<std::string> found;
  if (key.digest()) {
    found = IMAGED_TRY(tx.resolve_repo_digest(key.name(), key.digest()->str()));
  } else {
    found = IMAGED_TRY(tx.resolve_tag(key.name(), *key.tag()));
  }
  if (found) return LookupResult{std::move(*found), std::move(ref)};

  // 3. A unique ID prefix.
  if (is_lower_hex(hex) && hex.size() <= 64) {
    auto ids = IMAGED_TRY(tx.find_image_ids_by_prefix(hex, 2));
    if (ids.size() == 1) return LookupResult{std::move(ids.front()), std::nullopt};
    if (ids.size() > 1) {
      return fail(Errc::NotFound, "No such image: " + display_name(name) +
                                      " (ambiguous: the ID prefix " + std::string(hex) +
                                      " matches more than one image)");
    }
  }
  return fail(no_such_image(name));
}

}  // namespace imaged::images
