#include "common/remotes/challenge.h"

#include <catch2/catch.hpp>

using namespace imaged::remotes;

TEST_CASE("remotes: challenge Bearer with quoted params", "[remotes]") {
  auto c = parse_challenges(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull")");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == AuthScheme::Bearer);
  CHECK(c[0].param("realm") == "https://auth.docker.io/token");
  CHECK(c[0].param("service") == "registry.docker.io");
  CHECK(c[0].param("scope") == "repository:library/busybox:pull");
  CHECK(c[0].param("missing").empty());
}

TEST_CASE("remotes: challenge Basic, case and spacing", "[remotes]") {
  auto c = parse_challenges(R"(basic   Realm = "test-registry" )");
  REQUIRE(c.size() == 1);
  CHECK(c[0].scheme == AuthScheme::Basic);
  CHECK(c[0].scheme_name == "basic");
  CHECK(c[0].param("realm") == "test-registry");
}

TEST_CASE("remotes: challenge quoted commas, escapes and token values", "[remotes]") {
  auto c = parse_challenges(
      R"(Bearer realm="https://x/token",scope="repository:a:pull,push repository:b:pull",error="insufficient_scope",x=tok)");
  REQUIRE(c.size() == 1);
  CHECK(c[0].param("scope") == "repository:a:pull,push repository:b:pull");
  CHECK(c[0].param("error") == "insufficient_scope");
  CHECK(c[0].param("x") == "tok");
  auto e = parse_challenges(R"(Bearer realm="a\"b\\c")");
  REQUIRE(e.size() == 1);
  CHECK(e[0].param("realm") == R"(a"b\c)");
}

TEST_CASE("remotes: several challenges in one header", "[remotes]") {
  auto c =
      parse_challenges(R"(Basic realm="r1", Bearer realm="https://t", service="s", Negotiate)");
  REQUIRE(c.size() == 3);
  CHECK(c[0].scheme == AuthScheme::Basic);
  CHECK(c[0].param("realm") == "r1");
  CHECK(c[1].scheme == AuthScheme::Bearer);
  CHECK(c[1].param("realm") == "https://t");
  CHECK(c[1].param("service") == "s");
  CHECK(c[2].scheme == AuthScheme::Other);
  CHECK(c[2].scheme_name == "negotiate");
  auto bare = parse_challenges("Basic, Bearer realm=x");
  REQUIRE(bare.size() == 2);
  CHECK(bare[0].params.empty());
  CHECK(bare[1].param("realm") == "x");
}

TEST_CASE("remotes: token68 and malformed challenges", "[remotes]") {
  auto t = parse_challenges("Negotiate abc+/def==");
  REQUIRE(t.size() == 1);
  CHECK(t[0].token68 == "abc+/def==");
  CHECK(parse_challenges("").empty());
  CHECK(parse_challenges("   ").empty());
  CHECK(parse_challenges("=oops").empty());
  auto unterminated = parse_challenges(R"(Bearer realm="never closed)");
  REQUIRE(unterminated.size() == 1);  // the scheme is kept, the broken param dropped
  CHECK(unterminated[0].param("realm").empty());
}

TEST_CASE("remotes: several header values, Bearer preferred", "[remotes]") {
  auto c = parse_challenges(
      std::vector<std::string>{R"(Basic realm="r")", R"(Bearer realm="https://t")"});
  REQUIRE(c.size() == 2);
  CHECK(c[0].scheme == AuthScheme::Bearer);
  CHECK(c[1].scheme == AuthScheme::Basic);
}
