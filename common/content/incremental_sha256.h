// A SHA-256 stream whose current digest can be read without ending the stream.
//
// common/digest.h's Sha256::finish() resets the hasher; a Writer must report digest_so_far() and
// keep hashing, so this one copies the OpenSSL context to produce the intermediate digest. Not
// thread-safe; one instance per stream.
#pragma once

#include <cstddef>
#include <memory>
#include <span>

#include "common/digest.h"

namespace imaged::content {

class IncrementalSha256 {
 public:
  IncrementalSha256();
  ~IncrementalSha256();
  IncrementalSha256(IncrementalSha256&&) noexcept;
  IncrementalSha256& operator=(IncrementalSha256&&) noexcept;

  void update(std::span<const std::byte> bytes);
  // The digest of everything given since construction or the last reset(); the stream goes on.
  Digest current() const;
  void reset();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

}  // namespace imaged::content
