#include "common/content/incremental_sha256.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>
#include <string>

namespace imaged::content {

struct IncrementalSha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  Ctx() : md(EVP_MD_CTX_new()) {
    if (!md) throw std::runtime_error("OpenSSL: cannot allocate a digest context");
  }
  ~Ctx() { EVP_MD_CTX_free(md); }
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;
};

IncrementalSha256::IncrementalSha256() : ctx_(std::make_unique<Ctx>()) { reset(); }
IncrementalSha256::~IncrementalSha256() = default;
IncrementalSha256::IncrementalSha256(IncrementalSha256&&) noexcept = default;
IncrementalSha256& IncrementalSha256::operator=(IncrementalSha256&&) noexcept = default;

void IncrementalSha256::reset() {
  if (EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}

void IncrementalSha256::update(std::span<const std::byte> bytes) {
  if (!bytes.empty()) EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
}

Digest IncrementalSha256::current() const {
  Ctx copy;
  if (EVP_MD_CTX_copy_ex(copy.md, ctx_->md) != 1)
    throw std::runtime_error("OpenSSL: cannot copy the SHA-256 state");
  std::array<unsigned char, 32> raw{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(copy.md, raw.data(), &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (unsigned char b : raw) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return *Digest::from_hex(hex);
}

}  // namespace imaged::content
