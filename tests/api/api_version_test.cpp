#include "api/api_version.h"

#include <catch2/catch.hpp>

using imaged::Errc;
using imaged::api::ApiVersion;
using imaged::api::check_api_version;

TEST_CASE("api version: parses and prints major.minor", "[api]") {
  auto v = ApiVersion::parse("1.41");
  CHECK(v.major == 1);
  CHECK(v.minor == 41);
  CHECK(v.to_string() == "1.41");
  CHECK(ApiVersion::parse("1").to_string() == "1.0");
  CHECK(ApiVersion::parse("1.41.2").to_string() == "1.41.2");
}

TEST_CASE("api version: compares numerically, not as text", "[api]") {
  CHECK(ApiVersion::parse("1.9") < ApiVersion::parse("1.10"));
  CHECK(ApiVersion::parse("1.50") == ApiVersion::parse("1.50.0"));
  CHECK(ApiVersion::parse("1.50.1") > ApiVersion::parse("1.50"));
  CHECK(ApiVersion::parse("2.0") > ApiVersion::parse("1.99"));
  CHECK(ApiVersion::parse("1.42").at_least(1, 42));
  CHECK_FALSE(ApiVersion::parse("1.41").at_least(1, 42));
}

TEST_CASE("api version: accepts the window 1.24 to 1.50", "[api]") {
  CHECK(check_api_version("1.24"));
  CHECK(check_api_version("1.41"));
  CHECK(check_api_version("1.50"));
}

TEST_CASE("api version: too new gets dockerd's message", "[api]") {
  auto r = check_api_version("1.99");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::InvalidArgument);
  CHECK(r.error().message ==
        "client version 1.99 is too new. Maximum supported API version is 1.50");
}

TEST_CASE("api version: too old gets dockerd's message", "[api]") {
  auto r = check_api_version("1.11");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade "
        "your client to a newer version");
  // "/v1/" is version "1": too old, echoed as sent.
  auto one = check_api_version("1");
  REQUIRE_FALSE(one);
  CHECK(one.error().message.starts_with("client version 1 is too old"));
}
