// Docker image references ("busybox:musl", "localhost:5000/x/y@sha256:...") with the grammar and
// normalisation of github.com/distribution/reference as dockerd uses it (ParseNormalizedNamed,
// FamiliarName/FamiliarString, TagNameOnly, ParseDockerRef, FamiliarMatch).
//
// Grammar (distribution's):
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [domain '/'] path-component ['/' path-component]*
//   domain     := (domain-name | '[' ipv6-hex-and-colons ']') [':' port-number]
//   path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := '.' | '_' | '__' | '-'+
//   tag        := [\w][\w.-]{0,127}
// The path (without domain) is at most 255 characters.
//
// Reference is an immutable value type: a Reference object always holds a parsed, normalised
// reference (its digest, if any, is a sha256 Digest). Thread-compatible like std::string.
//
// Deviations from dockerd, by design or by cost:
//  - digests other than sha256 are rejected ("unsupported digest algorithm"); dockerd also
//    accepts well-formed sha384/sha512 digests, which imaged's store cannot hold.
//  - case folding is ASCII (plus "invalid UTF-8 is never lowercase", as Go's strings.ToLower
//    implies); a non-ASCII upper-case letter gets "invalid reference format" where docker says
//    "... must be lowercase". Both are Errc::InvalidArgument.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/digest.h"
#include "common/error.h"

namespace imaged {

// A parsed, normalised docker image reference (ParseNormalizedNamed semantics).
class Reference {
 public:
  // Parses what a user types: "busybox", "busybox:musl", "library/busybox", "docker.io/busybox",
  // "index.docker.io/library/busybox", "localhost:5000/x/y:t", "busybox@sha256:<hex>",
  // "busybox:musl@sha256:<hex>". Normalises docker.io / library/ like docker. Does NOT add a
  // default tag. On failure returns Errc::InvalidArgument with docker's exact message:
  //   "invalid reference format"
  //   "invalid reference format: repository name (<remote>) must be lowercase"
  //   "repository name must be lowercase"   (upper case in a would-be domain, e.g. "A_b.c/x")
  //   "repository name must not be more than 255 characters"
  //   "invalid checksum digest format" / "invalid checksum digest length" /
  //   "unsupported digest algorithm"
  //   "invalid repository name (<hex>), cannot specify 64-byte hexadecimal strings"
  // The domain is empty in one odd case docker also has: a first component with '.' or ':' that
  // is not a valid host but is a valid path component ("foo_bar.com/x" -> path "foo_bar.com/x").
  static Result<Reference> parse(std::string_view text);
  // Parses a repository name only, normalised; a tag or digest is Errc::InvalidArgument
  // "invalid reference format" (as distribution's WithName), other errors as parse().
  static Result<Reference> parse_repository(std::string_view text);

  const std::string& domain() const { return domain_; }  // "docker.io", "localhost:5000"
  const std::string& path() const { return path_; }      // "library/busybox"
  std::string name() const;           // full repository: "docker.io/library/busybox"
  std::string familiar_name() const;  // "busybox", "localhost:5000/x/y", "user/app"
  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }
  std::string str() const;       // full: "docker.io/library/busybox:musl[@sha256:..]"
  std::string familiar() const;  // "busybox:musl", "busybox@sha256:..."

  // Replaces the tag, keeping any digest. Precondition: is_valid_tag(tag).
  Reference with_tag(std::string tag) const;
  // As with_tag, but checks the tag: Errc::InvalidArgument "invalid tag format".
  Result<Reference> with_checked_tag(std::string_view tag) const;
  // Replaces the digest, keeping any tag.
  Reference with_digest(Digest d) const;
  Reference without_tag_or_digest() const;
  // Adds "latest" when neither tag nor digest is present (distribution's TagNameOnly).
  Reference with_default_tag() const;
  // distribution's ParseDockerRef applied to this reference: tag+digest -> digest only; name
  // only -> ":latest"; otherwise unchanged. The form a store keys images by.
  Reference docker_ref() const;

  bool operator==(const Reference&) const = default;

 private:
  Reference(std::string domain, std::string path)
      : domain_(std::move(domain)), path_(std::move(path)) {}
  friend Result<Reference> parse_canonical_reference(std::string_view text);

  std::string domain_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

// distribution's Parse: the text must already be canonical-ish (no docker.io/library/ added),
// e.g. "docker.io/library/busybox:musl". Exposed for stored names; users' input goes through
// Reference::parse. Same errors as Reference::parse, plus "repository name must have at least one
// component" for "".
Result<Reference> parse_canonical_reference(std::string_view text);

// True for a valid tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool is_valid_tag(std::string_view tag);

// Go's path.Match: '*' (not across '/'), '?', '[...]' / '[^...]' classes with ranges, '\\'
// escapes. Errc::InvalidArgument "syntax error in pattern" for a malformed pattern.
Result<bool> path_match(std::string_view pattern, std::string_view name);

// distribution's FamiliarMatch, as moby applies `docker images --filter reference=<pattern>`:
// path_match(pattern, ref.familiar()) or, failing that, path_match(pattern, ref.familiar_name()).
// So "busybox" and "busy*" match "busybox:musl", "busybox:mu*" matches it, "*" does not match
// "user/app". Errors as path_match.
Result<bool> familiar_match(std::string_view pattern, const Reference& ref);
// familiar_match with a malformed pattern treated as no match.
bool reference_glob_match(std::string_view pattern, const Reference& ref);

// moby's splitReposSearchTerm, for `docker search TERM`: {registry, remaining term}. The first
// path component is a registry when it has a '.' or ':' or is "localhost"; otherwise the
// registry is "docker.io" and the term is kept whole.
std::pair<std::string, std::string> split_search_term(std::string_view term);

// Registry host a reference talks to: "docker.io" -> "registry-1.docker.io" is the remotes'
// business, not this module's.

}  // namespace imaged
