#include "common/reference.h"

#include <cstdint>
#include <utility>

namespace imaged {

namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kLocalhost = "localhost";
constexpr std::string_view kOfficialRepoPrefix = "library/";
constexpr std::string_view kDefaultTag = "latest";
constexpr std::size_t kRepositoryNameTotalLengthMax = 255;
constexpr std::size_t kMinDigestHex = 32;

constexpr std::string_view kErrInvalidFormat = "invalid reference format";
constexpr std::string_view kErrNameEmpty = "repository name must have at least one component";
constexpr std::string_view kErrNameUppercase = "repository name must be lowercase";
constexpr std::string_view kErrNameTooLong = "repository name must not be more than 255 characters";
constexpr std::string_view kErrTagInvalid = "invalid tag format";
constexpr std::string_view kErrDigestFormat = "invalid checksum digest format";
constexpr std::string_view kErrDigestUnsupported = "unsupported digest algorithm";
constexpr std::string_view kErrBadPattern = "syntax error in pattern";

std::unexpected<Error> invalid(std::string_view message) {
  return fail(Errc::InvalidArgument, std::string(message));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alpha(char c) { return is_lower(c) || is_upper(c); }
bool is_alnum(char c) { return is_alpha(c) || is_digit(c); }
bool is_lower_alnum(char c) { return is_lower(c) || is_digit(c); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_xdigit(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// ---- UTF-8, as Go decodes it -------------------------------------------------------------------

constexpr char32_t kRuneError = 0xFFFD;

struct Rune {
  char32_t value;
  std::size_t size;  // bytes consumed; 0 only for empty input
};

// Go's utf8.DecodeRuneInString: (RuneError, 1) for an invalid or short sequence, (RuneError, 0)
// for empty input.
Rune decode_rune(std::string_view s) {
  if (s.empty()) return {kRuneError, 0};
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t n = 0;
  char32_t value = 0;
  char32_t min = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2, value = b0 & 0x1F, min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3, value = b0 & 0x0F, min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return {kRuneError, 1};
  }
  if (s.size() < n) return {kRuneError, 1};
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return {kRuneError, 1};
    value = (value << 6) | (b & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return {kRuneError, 1};
  return {value, n};
}

bool is_valid_utf8(std::string_view s) {
  while (!s.empty()) {
    Rune r = decode_rune(s);
    if (r.value == kRuneError && r.size == 1) return false;
    s.remove_prefix(r.size);
  }
  return true;
}

// Whether Go's strings.ToLower(s) != s. Exact for ASCII and for invalid UTF-8 (which ToLower
// replaces with U+FFFD); upper-case letters outside ASCII are not recognised.
bool changes_when_lowercased(std::string_view s) {
  for (char c : s)
    if (is_upper(c)) return true;
  return !is_valid_utf8(s);
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// ---- the grammar's productions, each matched against a whole string ------------------------

// path-component := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
bool is_path_component(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  if (n == 0 || !is_lower_alnum(s[0])) return false;
  while (true) {
    while (i < n && is_lower_alnum(s[i])) ++i;
    if (i == n) return true;
    const std::size_t start = i;
    while (i < n && !is_lower_alnum(s[i])) ++i;
    if (i == n) return false;  // a separator must be followed by an alphanumeric
    const std::string_view sep = s.substr(start, i - start);
    bool ok = sep == "." || sep == "_" || sep == "__";
    if (!ok) {
      ok = true;
      for (char c : sep) ok = ok && c == '-';
    }
    if (!ok) return false;
  }
}

// remote-name := path-component ( "/" path-component )*
bool is_remote_name(std::string_view s) {
  while (true) {
    const std::size_t slash = s.find('/');
    if (!is_path_component(s.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    s.remove_prefix(slash + 1);
  }
}

// domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool is_domain_component(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-') return false;
  return true;
}

// domain-name := domain-component ( "." domain-component )*
bool is_domain_name(std::string_view s) {
  while (true) {
    const std::size_t dot = s.find('.');
    if (!is_domain_component(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

// domain := ( domain-name | "[" [a-fA-F0-9:]+ "]" ) ( ":" [0-9]+ )?
bool is_domain_and_port(std::string_view s) {
  std::string_view rest;
  if (!s.empty() && s.front() == '[') {
    const std::size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : s.substr(1, close - 1))
      if (!is_xdigit(c) && c != ':') return false;
    rest = s.substr(close + 1);
  } else {
    const std::size_t colon = s.find(':');
    if (!is_domain_name(s.substr(0, colon))) return false;
    if (colon != std::string_view::npos) rest = s.substr(colon);
  }
  if (rest.empty()) return true;
  if (rest.front() != ':' || rest.size() == 1) return false;
  for (char c : rest.substr(1))
    if (!is_digit(c)) return false;
  return true;
}

// digest := algorithm ":" [0-9a-fA-F]{32,}
// algorithm := [A-Za-z][A-Za-z0-9]* ( [-_+.] [A-Za-z][A-Za-z0-9]* )*
bool is_digest_syntax(std::string_view s) {
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  const std::string_view algorithm = s.substr(0, colon);
  const std::string_view hex = s.substr(colon + 1);
  if (hex.size() < kMinDigestHex) return false;
  for (char c : hex)
    if (!is_xdigit(c)) return false;
  std::size_t i = 0;
  while (true) {
    if (i == algorithm.size() || !is_alpha(algorithm[i])) return false;
    ++i;
    while (i < algorithm.size() && is_alnum(algorithm[i])) ++i;
    if (i == algorithm.size()) return true;
    const char sep = algorithm[i];
    if (sep != '-' && sep != '_' && sep != '+' && sep != '.') return false;
    ++i;
  }
}

// go-digest's DigestRegexpAnchored: [a-z0-9]+([.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+
bool is_go_digest_syntax(std::string_view s) {
  const std::size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon + 1 == s.size()) return false;
  for (char c : s.substr(colon + 1))
    if (!is_alnum(c) && c != '=' && c != '_' && c != '-') return false;
  const std::string_view algorithm = s.substr(0, colon);
  std::size_t i = 0;
  while (true) {
    const std::size_t start = i;
    while (i < algorithm.size() && is_lower_alnum(algorithm[i])) ++i;
    if (i == start) return false;
    if (i == algorithm.size()) return true;
    const char sep = algorithm[i];
    if (sep != '.' && sep != '+' && sep != '_' && sep != '-') return false;
    ++i;
  }
}

// go-digest's Digest.Validate for a string that already matched the reference grammar's digest,
// restricted to sha256 (see the header).
Result<Digest> parse_reference_digest(std::string_view s) {
  const std::string_view algorithm = s.substr(0, s.find(':'));
  if (algorithm != "sha256") {
    if (!is_go_digest_syntax(s)) return invalid(kErrDigestFormat);
    return invalid(kErrDigestUnsupported);
  }
  return Digest::parse(s);  // "invalid checksum digest length" / "... format", as go-digest
}

struct NameParts {
  std::string_view domain;
  std::string_view path;
};

// anchoredNameRegexp: ^(?:(domain)/)?(remote-name)$, the domain taken when it can be.
std::optional<NameParts> split_name(std::string_view name) {
  const std::size_t slash = name.find('/');
  if (slash != std::string_view::npos && is_domain_and_port(name.substr(0, slash)) &&
      is_remote_name(name.substr(slash + 1)))
    return NameParts{name.substr(0, slash), name.substr(slash + 1)};
  if (is_remote_name(name)) return NameParts{{}, name};
  return std::nullopt;
}

struct ReferenceParts {
  NameParts name;
  std::optional<std::string_view> tag;
  std::optional<std::string_view> digest;
};

// referenceRegexp: ^(name)(?::(tag))?(?:@(digest))?$. The split is unambiguous: only the digest
// follows an '@' and holds none; the tag follows the last ':' when no '/' comes after it (a name
// holds ':' only in its domain, which a '/' ends).
std::optional<ReferenceParts> match_reference(std::string_view s) {
  ReferenceParts parts;
  if (const std::size_t at = s.find('@'); at != std::string_view::npos) {
    parts.digest = s.substr(at + 1);
    if (!is_digest_syntax(*parts.digest)) return std::nullopt;
    s = s.substr(0, at);
  }
  const std::size_t colon = s.rfind(':');
  const std::size_t slash = s.rfind('/');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    parts.tag = s.substr(colon + 1);
    if (!is_valid_tag(*parts.tag)) return std::nullopt;
    s = s.substr(0, colon);
  }
  auto name = split_name(s);
  if (!name) return std::nullopt;
  parts.name = *name;
  return parts;
}

struct DomainSplit {
  std::string domain;
  std::string remainder;  // remote name with any ":tag" / "@digest" still attached
};

// distribution's splitDockerDomain, applied (as there) to the whole input.
DomainSplit split_docker_domain(std::string_view name) {
  DomainSplit out;
  const std::size_t slash = name.find('/');
  if (slash == std::string_view::npos) {
    out.domain = kDefaultDomain;
    out.remainder = std::string(kOfficialRepoPrefix) + std::string(name);
    return out;
  }
  const std::string_view maybe_domain = name.substr(0, slash);
  const std::string_view maybe_remote = name.substr(slash + 1);
  if (maybe_domain == kLocalhost) {
    out.domain = maybe_domain;
    out.remainder = maybe_remote;
  } else if (maybe_domain == kLegacyDefaultDomain) {
    out.domain = kDefaultDomain;
    out.remainder = maybe_remote;
  } else if (maybe_domain.find_first_of(".:") != std::string_view::npos ||
             changes_when_lowercased(maybe_domain)) {
    out.domain = maybe_domain;
    out.remainder = maybe_remote;
  } else {
    out.domain = kDefaultDomain;
    out.remainder = name;
  }
  if (out.domain == kDefaultDomain && out.remainder.find('/') == std::string::npos)
    out.remainder.insert(0, kOfficialRepoPrefix);
  return out;
}

bool is_identifier(std::string_view s) { return is_sha256_hex(s); }

// ---- Go's path.Match ---------------------------------------------------------------------------

struct Chunk {
  bool star;
  std::string_view chunk;
  std::string_view rest;
};

Chunk scan_chunk(std::string_view pattern) {
  bool star = false;
  while (!pattern.empty() && pattern.front() == '*') {
    pattern.remove_prefix(1);
    star = true;
  }
  bool in_range = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      if (i + 1 < pattern.size()) ++i;  // a trailing '\' is reported by match_chunk
    } else if (c == '[') {
      in_range = true;
    } else if (c == ']') {
      in_range = false;
    } else if (c == '*' && !in_range) {
      break;
    }
  }
  return {star, pattern.substr(0, i), pattern.substr(i)};
}

// Go's getEsc: one (possibly escaped) rune of a character class.
std::optional<char32_t> get_esc(std::string_view& chunk) {
  if (chunk.empty() || chunk.front() == '-' || chunk.front() == ']') return std::nullopt;
  if (chunk.front() == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) return std::nullopt;
  }
  const Rune r = decode_rune(chunk);
  chunk.remove_prefix(r.size);
  if ((r.value == kRuneError && r.size == 1) || chunk.empty()) return std::nullopt;
  return r.value;
}

struct ChunkMatch {
  bool ok = false;
  std::string_view rest;
};

// Go's matchChunk: matches `chunk` (no '*') against the start of `s`. Keeps scanning the chunk
// after a mismatch so that a malformed pattern is always reported.
Result<ChunkMatch> match_chunk(std::string_view chunk, std::string_view s) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) failed = true;
    switch (chunk.front()) {
      case '[': {
        char32_t r = 0;
        if (!failed) {
          const Rune rr = decode_rune(s);
          r = rr.value;
          s.remove_prefix(rr.size);
        }
        chunk.remove_prefix(1);
        bool negated = false;
        if (!chunk.empty() && chunk.front() == '^') {
          negated = true;
          chunk.remove_prefix(1);
        }
        bool matched = false;
        int nrange = 0;
        while (true) {
          if (!chunk.empty() && chunk.front() == ']' && nrange > 0) {
            chunk.remove_prefix(1);
            break;
          }
          const auto lo = get_esc(chunk);
          if (!lo) return invalid(kErrBadPattern);
          char32_t hi = *lo;
          if (chunk.front() == '-') {
            chunk.remove_prefix(1);
            const auto h = get_esc(chunk);
            if (!h) return invalid(kErrBadPattern);
            hi = *h;
          }
          if (*lo <= r && r <= hi) matched = true;
          ++nrange;
        }
        if (matched == negated) failed = true;
        break;
      }
      case '?':
        if (!failed) {
          if (s.front() == '/') failed = true;
          s.remove_prefix(decode_rune(s).size);
        }
        chunk.remove_prefix(1);
        break;
      case '\\':
        chunk.remove_prefix(1);
        if (chunk.empty()) return invalid(kErrBadPattern);
        [[fallthrough]];
      default:
        if (!failed) {
          if (chunk.front() != s.front()) failed = true;
          s.remove_prefix(1);
        }
        chunk.remove_prefix(1);
        break;
    }
  }
  if (failed) return ChunkMatch{};
  return ChunkMatch{true, s};
}

}  // namespace

// ---- parsing -----------------------------------------------------------------------------------

bool is_valid_tag(std::string_view tag) {
  if (tag.empty() || tag.size() > 128 || !is_word(tag.front())) return false;
  for (char c : tag)
    if (!is_word(c) && c != '.' && c != '-') return false;
  return true;
}

Result<Reference> parse_canonical_reference(std::string_view text) {
  if (text.empty()) return invalid(kErrNameEmpty);
  auto parts = match_reference(text);
  if (!parts) {
    if (changes_when_lowercased(text) && match_reference(ascii_lower(text)))
      return invalid(kErrNameUppercase);
    return invalid(kErrInvalidFormat);
  }
  if (parts->name.path.size() > kRepositoryNameTotalLengthMax) return invalid(kErrNameTooLong);
  Reference ref{std::string(parts->name.domain), std::string(parts->name.path)};
  if (parts->tag) ref.tag_ = std::string(*parts->tag);
  if (parts->digest) ref.digest_ = IMAGED_TRY(parse_reference_digest(*parts->digest));
  return ref;
}

Result<Reference> Reference::parse(std::string_view text) {
  if (is_identifier(text))
    return invalid("invalid repository name (" + std::string(text) +
                   "), cannot specify 64-byte hexadecimal strings");
  DomainSplit split = split_docker_domain(text);
  const std::string_view remote =
      std::string_view(split.remainder).substr(0, split.remainder.find(':'));
  if (changes_when_lowercased(remote))
    return invalid("invalid reference format: repository name (" + std::string(remote) +
                   ") must be lowercase");
  return parse_canonical_reference(split.domain + "/" + split.remainder);
}

Result<Reference> Reference::parse_repository(std::string_view text) {
  Reference ref = IMAGED_TRY(parse(text));
  if (ref.tag_ || ref.digest_) return invalid(kErrInvalidFormat);
  return ref;
}

// ---- accessors and derived references ---------------------------------------------------------

std::string Reference::name() const {
  if (domain_.empty()) return path_;
  return domain_ + "/" + path_;
}

std::string Reference::familiar_name() const {
  if (domain_ != kDefaultDomain) return name();
  if (path_.starts_with(kOfficialRepoPrefix) &&
      path_.find('/', kOfficialRepoPrefix.size()) == std::string::npos)
    return path_.substr(kOfficialRepoPrefix.size());
  return path_;
}

namespace {
std::string with_suffixes(std::string name, const std::optional<std::string>& tag,
                          const std::optional<Digest>& digest) {
  if (tag) name += ":" + *tag;
  if (digest) name += "@" + digest->str();
  return name;
}
}  // namespace

std::string Reference::str() const { return with_suffixes(name(), tag_, digest_); }

std::string Reference::familiar() const { return with_suffixes(familiar_name(), tag_, digest_); }

Reference Reference::with_tag(std::string tag) const {
  Reference out = *this;
  out.tag_ = std::move(tag);
  return out;
}

Result<Reference> Reference::with_checked_tag(std::string_view tag) const {
  if (!is_valid_tag(tag)) return invalid(kErrTagInvalid);
  return with_tag(std::string(tag));
}

Reference Reference::with_digest(Digest d) const {
  Reference out = *this;
  out.digest_ = std::move(d);
  return out;
}

Reference Reference::without_tag_or_digest() const { return Reference(domain_, path_); }

Reference Reference::with_default_tag() const {
  if (tag_ || digest_) return *this;
  return with_tag(std::string(kDefaultTag));
}

Reference Reference::docker_ref() const {
  if (tag_ && digest_) {
    Reference out = *this;
    out.tag_.reset();
    return out;
  }
  return with_default_tag();
}

// ---- matching ----------------------------------------------------------------------------------

Result<bool> path_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    const Chunk c = scan_chunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      // A trailing '*' matches the rest of the name unless it holds a '/'.
      return name.find('/') == std::string_view::npos;
    }
    // Look for a match at the current position; the last chunk must consume the whole name.
    const ChunkMatch here = IMAGED_TRY(match_chunk(c.chunk, name));
    if (here.ok && (here.rest.empty() || !pattern.empty())) {
      name = here.rest;
      continue;
    }
    bool advanced = false;
    if (c.star) {
      // Look for a match skipping i+1 bytes; '*' cannot skip a '/'.
      for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        const ChunkMatch skip = IMAGED_TRY(match_chunk(c.chunk, name.substr(i + 1)));
        if (skip.ok) {
          if (pattern.empty() && !skip.rest.empty()) continue;
          name = skip.rest;
          advanced = true;
          break;
        }
      }
    }
    if (advanced) continue;
    // Before answering "no", check that the rest of the pattern is well formed.
    while (!pattern.empty()) {
      const Chunk rest = scan_chunk(pattern);
      pattern = rest.rest;
      IMAGED_TRY(match_chunk(rest.chunk, ""));
    }
    return false;
  }
  return name.empty();
}

Result<bool> familiar_match(std::string_view pattern, const Reference& ref) {
  Result<bool> matched = path_match(pattern, ref.familiar());
  if (matched && *matched) return true;
  Result<bool> by_name = path_match(pattern, ref.familiar_name());
  if (!matched) return matched;  // FamiliarMatch reports the first call's error
  return by_name && *by_name;
}

bool reference_glob_match(std::string_view pattern, const Reference& ref) {
  Result<bool> matched = familiar_match(pattern, ref);
  return matched && *matched;
}

std::pair<std::string, std::string> split_search_term(std::string_view term) {
  const auto slash = term.find('/');
  if (slash == std::string_view::npos) return {"docker.io", std::string(term)};
  const std::string_view first = term.substr(0, slash);
  if (first.find('.') == std::string_view::npos && first.find(':') == std::string_view::npos &&
      first != "localhost")
    return {"docker.io", std::string(term)};
  return {std::string(first), std::string(term.substr(slash + 1))};
}

}  // namespace imaged
