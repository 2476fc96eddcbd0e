// Content digests ("sha256:<64 lower-case hex>") and a streaming SHA-256 hasher.
//
// Digest is a validated value: a Digest object always holds a well-formed sha256 digest.
// Sha256 wraps OpenSSL's EVP interface (SHA-NI where the CPU has it).
#pragma once

#include <compare>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged {

class Digest {
 public:
  // Parses "sha256:<64 hex>" strictly (lower-case hex only, no other algorithm).
  // Errc::InvalidArgument names what is wrong.
  static Result<Digest> parse(std::string_view text);
  // Builds from 64 lower-case hex characters; InvalidArgument otherwise.
  static Result<Digest> from_hex(std::string_view hex);
  // The digest of a whole buffer.
  static Digest of(std::string_view bytes);

  const std::string& str() const { return text_; }  // "sha256:<hex>"
  std::string_view hex() const { return std::string_view(text_).substr(7); }
  std::string_view short_id() const { return hex().substr(0, 12); }  // as docker shows IDs

  auto operator<=>(const Digest&) const = default;

 private:
  explicit Digest(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

// True when `text` is 64 lower-case hex characters.
bool is_sha256_hex(std::string_view text);

// A streaming SHA-256 (OpenSSL EVP; libcrypto is loaded by the first instance). Throws
// std::runtime_error only when libcrypto cannot be loaded or initialised. Not thread-safe; one
// instance per stream.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void update(std::span<const std::byte> bytes);
  void update(std::string_view bytes);
  // The digest of everything given since construction or the last reset(); the stream goes on
  // (a content Writer reports its digest so far and keeps hashing).
  Digest current() const;
  // Returns the digest of everything given so far; the hasher is reset afterwards.
  Digest finish();
  // Forgets everything given so far.
  void reset();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace imaged

template <>
struct std::hash<imaged::Digest> {
  size_t operator()(const imaged::Digest& d) const noexcept {
    return std::hash<std::string>{}(d.str());
  }
};
