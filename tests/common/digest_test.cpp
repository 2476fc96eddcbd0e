#include "common/digest.h"

#include <catch2/catch.hpp>
#include <vector>

using imaged::Digest;
using imaged::Errc;

TEST_CASE("digest: sha256 of known inputs", "[digest]") {
  CHECK(Digest::of("").str() ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Digest::of("abc").str() ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("digest: streaming equals one-shot", "[digest]") {
  imaged::Sha256 h;
  h.update("a");
  h.update("bc");
  CHECK(h.finish() == Digest::of("abc"));
  // finish() resets the hasher.
  CHECK(h.finish() == Digest::of(""));
}

TEST_CASE("digest: strict parsing", "[digest]") {
  const std::string hex(64, 'a');
  auto ok = Digest::parse("sha256:" + hex);
  REQUIRE(ok);
  CHECK(ok->hex() == hex);
  CHECK(ok->short_id() == std::string(12, 'a'));
  for (const std::string& bad : std::vector<std::string>{"", "sha256:", hex, "sha256:" + std::string(63, 'a'),
                          "sha256:" + std::string(65, 'a'), "sha256:" + std::string(64, 'A'),
                          "sha512:" + hex, "sha256:" + std::string(63, 'a') + "g",
                          "SHA256:" + hex}) {
    auto r = Digest::parse(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::InvalidArgument);
  }
}
