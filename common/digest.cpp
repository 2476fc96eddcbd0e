#include "common/digest.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

#include "common/dynamic_library.h"

namespace imaged {

namespace {
constexpr std::string_view kPrefix = "sha256:";
constexpr char kHex[] = "0123456789abcdef";
}  // namespace

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<Digest> Digest::from_hex(std::string_view hex) {
  if (!is_sha256_hex(hex)) return fail(Errc::InvalidArgument, "invalid checksum digest format");
  return Digest(std::string(kPrefix) + std::string(hex));
}

Result<Digest> Digest::parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos)
    return fail(Errc::InvalidArgument, "invalid checksum digest format");
  if (text.substr(0, colon) != "sha256")
    return fail(Errc::InvalidArgument, "unsupported digest algorithm");
  if (text.size() - colon - 1 != 64)
    return fail(Errc::InvalidArgument, "invalid checksum digest length");
  return from_hex(text.substr(colon + 1));
}

Digest Digest::of(std::string_view bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

namespace {

// libcrypto is opened by the first hash, not at exec (see common/dynamic_library.h): listing,
// tagging and inspecting never hash.
// clang-format off
#define IMAGED_CRYPTO_API(X)                                                                     \
  X(EVP_MD_CTX_new) X(EVP_MD_CTX_free) X(EVP_MD_CTX_copy_ex) X(EVP_sha256) X(EVP_DigestInit_ex) \
  X(EVP_DigestUpdate) X(EVP_DigestFinal_ex)
// clang-format on

struct CryptoApi {
  IMAGED_CRYPTO_API(IMAGED_API_MEMBER)
};

const CryptoApi& crypto() {
  static const Result<CryptoApi> api = load_api<CryptoApi>(
      "libcrypto.so.3", [](SymbolBinder& b, CryptoApi& a) { IMAGED_CRYPTO_API(IMAGED_API_BIND) });
  if (!api) throw std::runtime_error(api.error().message);
  return *api;
}

}  // namespace

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  Ctx() : md(crypto().EVP_MD_CTX_new()) {
    if (!md) throw std::runtime_error("OpenSSL: cannot allocate a digest context");
  }
  ~Ctx() { crypto().EVP_MD_CTX_free(md); }
  Ctx(const Ctx&) = delete;
  Ctx& operator=(const Ctx&) = delete;
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) { reset(); }
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::reset() {
  if (crypto().EVP_DigestInit_ex(ctx_->md, crypto().EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}

void Sha256::update(std::span<const std::byte> bytes) {
  if (!bytes.empty()) crypto().EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
}
void Sha256::update(std::string_view bytes) { update(std::as_bytes(std::span(bytes))); }

namespace {

Digest final_digest(EVP_MD_CTX* md) {
  std::array<unsigned char, 32> raw{};
  unsigned int len = 0;
  crypto().EVP_DigestFinal_ex(md, raw.data(), &len);
  std::string hex;
  hex.reserve(64);
  for (unsigned char b : raw) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return *Digest::from_hex(hex);
}

}  // namespace

Digest Sha256::current() const {
  Ctx copy;
  if (crypto().EVP_MD_CTX_copy_ex(copy.md, ctx_->md) != 1)
    throw std::runtime_error("OpenSSL: cannot copy the SHA-256 state");
  return final_digest(copy.md);
}

Digest Sha256::finish() {
  Digest d = final_digest(ctx_->md);
  reset();
  return d;
}

}  // namespace imaged
