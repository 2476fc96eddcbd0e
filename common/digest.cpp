#include "common/digest.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

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
  if (!is_sha256_hex(hex))
    return fail(Errc::InvalidArgument, "invalid checksum digest format");
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

struct Sha256::Ctx {
  EVP_MD_CTX* md = nullptr;
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  ctx_->md = EVP_MD_CTX_new();
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("OpenSSL: cannot initialise SHA-256");
}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
}
void Sha256::update(std::string_view bytes) {
  EVP_DigestUpdate(ctx_->md, bytes.data(), bytes.size());
}

Digest Sha256::finish() {
  std::array<unsigned char, 32> raw{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md, raw.data(), &len);
  EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr);
  std::string text(kPrefix);
  for (unsigned char b : raw) {
    text.push_back(kHex[b >> 4]);
    text.push_back(kHex[b & 15]);
  }
  return *Digest::from_hex(std::string_view(text).substr(kPrefix.size()));
}

}  // namespace imaged
