#include "common/remotes/auth_config.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "common/remotes/base64.h"
#include "tests/support/temp_dir.h"

using imaged::Errc;
using namespace imaged::remotes;

TEST_CASE("remotes: base64 both alphabets, padding optional", "[remotes]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("\xfb\xff", Base64Alphabet::Url) == "-_8=");
  CHECK(base64_encode("\xfb\xff") == "+/8=");
  CHECK(base64_decode("Zg==") == "f");
  CHECK(base64_decode("Zg") == "f");
  CHECK(base64_decode("Zm8") == "fo");
  CHECK(base64_decode("-_8=") == "\xfb\xff");
  CHECK(base64_decode("+/8") == "\xfb\xff");
  CHECK(base64_decode("Zm9v\nYmFy") == "foobar");
  CHECK_FALSE(base64_decode("Z"));      // 6 dangling bits
  CHECK_FALSE(base64_decode("Zg=x"));   // data after padding
  CHECK_FALSE(base64_decode("Zg==="));  // too much padding
  CHECK_FALSE(base64_decode("Z!=="));   // bad character
}

TEST_CASE("remotes: X-Registry-Auth decoding variants", "[remotes]") {
  const std::string json =
      R"({"username":"foo","password":"b?>r","serveraddress":"127.0.0.1:5000"})";
  AuthConfig want{.username = "foo", .password = "b?>r", .server_address = "127.0.0.1:5000"};
  std::string url = base64_encode(json, Base64Alphabet::Url);
  std::string std_ = base64_encode(json);
  REQUIRE(url != std_);  // the password makes the alphabets differ
  std::string unpadded = url;
  while (!unpadded.empty() && unpadded.back() == '=') unpadded.pop_back();

  CHECK(decode_registry_auth(url) == want);       // what the CLI sends
  CHECK(decode_registry_auth(std_) == want);      // std alphabet
  CHECK(decode_registry_auth(unpadded) == want);  // missing padding
  CHECK(decode_registry_auth("e30=").empty());    // {}
  CHECK(decode_registry_auth("e30").empty());
  CHECK(decode_registry_auth("").empty());
  CHECK(decode_registry_auth("!!!not base64").empty());
  CHECK(decode_registry_auth(base64_encode("not json")).empty());
  CHECK(decode_registry_auth(base64_encode(R"({"username":5})")).empty());
  CHECK(decode_registry_auth(base64_encode("[]")).empty());

  auto token =
      decode_registry_auth(base64_encode(R"({"identitytoken":"tok","registrytoken":"rt"})"));
  CHECK(token.identity_token == "tok");
  CHECK(token.registry_token == "rt");
  // A legacy "auth" field ("user:pass" in base64).
  auto legacy =
      decode_registry_auth(base64_encode(R"({"auth":")" + base64_encode("u:p:q") + R"("})"));
  CHECK(legacy.username == "u");
  CHECK(legacy.password == "p:q");
  // Round trip.
  CHECK(decode_registry_auth(encode_registry_auth(want)) == want);
}

TEST_CASE("remotes: POST /auth body parsing", "[remotes]") {
  auto a = parse_auth_config_json(
      R"({"username":"foo","password":"bar","serveraddress":"127.0.0.1:5000"})");
  REQUIRE(a);
  CHECK(a->username == "foo");
  CHECK(a->server_address == "127.0.0.1:5000");
  auto bad = parse_auth_config_json("{");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);
  CHECK_FALSE(parse_auth_config_json(R"({"password":1})"));
}

TEST_CASE("remotes: redacted AuthConfig never shows secrets", "[remotes]") {
  AuthConfig a{.username = "foo",
               .password = "s3cret",
               .identity_token = "idtok",
               .registry_token = "regtok"};
  std::string s = redacted(a);
  CHECK_THAT(s, Catch::Contains("foo"));
  CHECK_THAT(s, !Catch::Contains("s3cret"));
  CHECK_THAT(s, !Catch::Contains("idtok"));
  CHECK_THAT(s, !Catch::Contains("regtok"));
  CHECK_THAT(s, Catch::Contains("<redacted>"));
  CHECK_THAT(redacted(AuthConfig{}), Catch::Contains("password=<none>"));
}

TEST_CASE("remotes: credential keys", "[remotes]") {
  CHECK(credential_key("https://index.docker.io/v1/") == "docker.io");
  CHECK(credential_key("docker.io") == "docker.io");
  CHECK(credential_key("registry-1.docker.io") == "docker.io");
  CHECK(credential_key("http://127.0.0.1:5000/v2/") == "127.0.0.1:5000");
  CHECK(credential_key("Registry.Example.com") == "registry.example.com");
}

TEST_CASE("remotes: docker config.json credentials", "[remotes]") {
  std::string cfg = R"({
    "auths": {
      "https://index.docker.io/v1/": {"auth": ")" +
                    base64_encode("hubuser:hubpass") + R"("},
      "127.0.0.1:5000": {"auth": ")" +
                    base64_encode("foo:bar") + R"("},
      "https://ghcr.io": {"identitytoken": "refresh-me"},
      "empty.example.com": {}
    },
    "credsStore": "desktop"
  })";
  auto creds = DockerConfigCredentials::parse(cfg);
  REQUIRE(creds);
  CHECK(creds->size() == 3);
  auto hub = creds->lookup("docker.io");
  REQUIRE(hub);
  CHECK(hub->username == "hubuser");
  CHECK(hub->password == "hubpass");
  CHECK(creds->lookup("127.0.0.1:5000")->password == "bar");
  CHECK(creds->lookup("ghcr.io")->identity_token == "refresh-me");
  CHECK_FALSE(creds->lookup("empty.example.com"));
  CHECK_FALSE(creds->lookup("quay.io"));

  CHECK(DockerConfigCredentials::parse("{}")->size() == 0);
  auto bad =
      DockerConfigCredentials::parse(R"({"auths":{"x":{"auth":"bm9jb2xvbg=="}}})");  // "nocolon"
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);

  imaged::testing::TempDir dir;
  CHECK(DockerConfigCredentials::load(dir / "missing.json").error().code == Errc::NotFound);
  std::ofstream(dir / "config.json") << cfg;
  auto loaded = DockerConfigCredentials::load(dir / "config.json");
  REQUIRE(loaded);
  CHECK(loaded->lookup("index.docker.io")->username == "hubuser");
}

TEST_CASE("remotes: static credentials", "[remotes]") {
  StaticCredentials s;
  s.set("http://LOCALHOST:5000/", AuthConfig{.username = "u", .password = "p"});
  REQUIRE(s.lookup("localhost:5000"));
  CHECK(s.lookup("localhost:5000")->username == "u");
  CHECK_FALSE(s.lookup("localhost:5001"));
  CHECK_FALSE(NoCredentials().lookup("docker.io"));
}
