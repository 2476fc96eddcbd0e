#include "common/images/image_refs.h"

#include <catch2/catch.hpp>

#include <random>

using namespace imaged::images;

TEST_CASE("refs: concat_less orders as the concatenated strings", "[images]") {
  CHECK(concat_less("busybox-x", ":", "a", "busybox", ":", "musl"));
  CHECK_FALSE(concat_less("busybox", ":", "musl", "busybox-x", ":", "a"));
  CHECK(concat_less("localhost", ":", "5000", "localhost:5000/x", ":", "1"));
  CHECK_FALSE(concat_less("a", ":", "b", "a", ":", "b"));
  CHECK(concat_less("a", ":", "b", "a", ":", "bb"));
  CHECK(concat_less("", "", "", "a", "", ""));
  // Random segments against std::string comparison.
  std::mt19937 rng(42);
  auto word = [&] {
    std::string s(rng() % 4, 'a');
    for (auto& c : s) c = "ab:-"[rng() % 4];
    return s;
  };
  for (int i = 0; i < 5000; ++i) {
    std::string a1 = word(), a2 = word(), a3 = word(), b1 = word(), b2 = word(), b3 = word();
    INFO(a1 << "|" << a2 << "|" << a3 << " vs " << b1 << "|" << b2 << "|" << b3);
    REQUIRE(concat_less(a1, a2, a3, b1, b2, b3) == (a1 + a2 + a3 < b1 + b2 + b3));
  }
}

TEST_CASE("refs: ID prefixes and short IDs", "[images]") {
  const std::string id = "sha256:e96476562b264ac33211c16e5907aac44d91028b3519c8a5aa1953f28dadf237";
  CHECK(is_image_id_prefix(id, "e964"));
  CHECK(is_image_id_prefix(id, "sha256:e964"));
  CHECK_FALSE(is_image_id_prefix(id, "busybox"));
  CHECK(short_image_id(id) == "e96476562b26");
}
