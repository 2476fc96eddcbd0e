#include "common/images/decompressor.h"

#include <catch2/catch.hpp>
#include <string>

#include "tests/support/compress.h"

using namespace imaged;
using namespace imaged::images;
using imaged::testing::gzip;
using imaged::testing::zstd;

namespace {

std::string sample(size_t n) {
  std::string s;
  uint32_t x = 12345;
  while (s.size() < n) {
    x = x * 1103515245 + 12345;
    s += (x >> 16) % 4 == 0 ? static_cast<char>(x >> 8) : "layer text "[s.size() % 11];
  }
  return s;
}

// Decompresses `in` fed in pieces of `piece` bytes.
Result<std::string> run(oci::Compression c, const std::string& in, size_t piece) {
  auto d = IMAGED_TRY(make_decompressor(c));
  std::string out;
  for (size_t at = 0; at < in.size(); at += piece) {
    auto part = std::string_view(in).substr(at, piece);
    IMAGED_TRY(d->update(std::as_bytes(std::span(part.data(), part.size())),
                         [&](std::span<const std::byte> b) {
                           out.append(reinterpret_cast<const char*>(b.data()), b.size());
                         }));
  }
  IMAGED_TRY(d->finish());
  return out;
}

}  // namespace

TEST_CASE("gzip decompresses in any piece size", "[pull][decompress]") {
  const std::string data = sample(3 << 20);
  const std::string gz = gzip(data);
  for (size_t piece : {size_t{1} << 20, size_t{16384}, size_t{7}}) {
    if (piece == 7) {
      auto small = gzip(sample(50000));
      REQUIRE(run(oci::Compression::Gzip, small, piece).value() == sample(50000));
      continue;
    }
    auto out = run(oci::Compression::Gzip, gz, piece);
    REQUIRE(out);
    REQUIRE(*out == data);
  }
}

TEST_CASE("gzip reads concatenated members as one stream", "[pull][decompress]") {
  const std::string a = sample(100000), b = sample(70000) + "tail";
  auto out = run(oci::Compression::Gzip, gzip(a) + gzip(b), 4096);
  REQUIRE(out);
  REQUIRE(*out == a + b);
}

TEST_CASE("gzip reports corrupt and truncated streams", "[pull][decompress]") {
  std::string gz = gzip(sample(200000));
  SECTION("truncated") {
    auto out = run(oci::Compression::Gzip, gz.substr(0, gz.size() / 2), 4096);
    REQUIRE_FALSE(out);
    CHECK(out.error().message == "gzip: unexpected EOF");
  }
  SECTION("flipped byte in the trailer (CRC)") {
    gz[gz.size() - 6] ^= 0x55;
    auto out = run(oci::Compression::Gzip, gz, 4096);
    REQUIRE_FALSE(out);
    CHECK(out.error().code == Errc::InvalidArgument);
  }
  SECTION("not gzip at all") {
    auto out = run(oci::Compression::Gzip, "this is not gzip data", 4096);
    REQUIRE_FALSE(out);
    CHECK(out.error().message.starts_with("gzip: "));
  }
  SECTION("garbage after the last member") {
    auto out = run(oci::Compression::Gzip, gz + "garbage!", 4096);
    REQUIRE_FALSE(out);
  }
  SECTION("empty") {
    auto out = run(oci::Compression::Gzip, "", 4096);
    REQUIRE_FALSE(out);
  }
}

TEST_CASE("zstd decompresses frames and reports truncation", "[pull][decompress]") {
  const std::string a = sample(1 << 20), b = sample(1000);
  auto out = run(oci::Compression::Zstd, zstd(a) + zstd(b), 8192);
  REQUIRE(out);
  REQUIRE(*out == a + b);
  auto z = zstd(a);
  auto cut = run(oci::Compression::Zstd, z.substr(0, z.size() - 10), 8192);
  REQUIRE_FALSE(cut);
  CHECK(cut.error().message == "zstd: unexpected EOF");
}

TEST_CASE("no compression passes bytes through", "[pull][decompress]") {
  auto out = run(oci::Compression::None, "plain tar bytes", 3);
  REQUIRE(out);
  CHECK(*out == "plain tar bytes");
}
