// Name → image ID, as dockerd's ImageService.GetImage resolves what a user typed.
//
// Order (moby daemon/images/image.go):
//   1. A digest ("sha256:<64 hex>") or a bare 64-hex string is an image ID: that image or
//      NotFound. A manifest digest is NOT an image ID (→ NotFound).
//   2. Otherwise the text is parsed as a reference (InvalidArgument with docker's message when
//      it does not parse) and looked up in the names: `repo[:tag]` (default :latest) in tags,
//      `repo@digest` and `repo:tag@digest` (the digest wins) in repo digests.
//   3. Failing that, a hex string (optionally "sha256:"-prefixed) is a unique ID prefix, even
//      one character long. Two or more matches → NotFound naming the ambiguity (dockerd also
//      answers 404 there).
//   4. NotFound "No such image: <familiar ref, :latest added>" (dockerd's wording), e.g.
//      "No such image: nosuch:latest".
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/reference.h"

namespace imaged::metadata {
class ReadTx;
}

namespace imaged::images {

struct LookupResult {
  std::string image_id;          // "sha256:<hex>"
  std::optional<Reference> ref;  // the parsed name when it matched a tag or digest reference
};

// Runs inside the caller's transaction (read or write), so the answer is consistent with what
// the caller does next.
Result<LookupResult> lookup_image(const metadata::ReadTx& tx, std::string_view name);

// The NotFound error for a name, with dockerd's text ("No such image: nosuch:latest").
Error no_such_image(std::string_view name);

}  // namespace imaged::images
