// Table-driven tests of the docker reference grammar. The tables follow distribution/reference's
// reference_test.go and normalize_test.go (and Go's path/match_test.go for the glob matcher);
// expectations are what ParseNormalizedNamed / FamiliarString / FamiliarMatch return.
#include "common/reference.h"

#include <catch2/catch.hpp>
#include <cctype>
#include <optional>
#include <string>
#include <vector>

using imaged::Digest;
using imaged::Errc;
using imaged::Reference;

namespace {

const std::string kHexF(64, 'f');
const std::string kDigestF = "sha256:" + kHexF;
const std::string kRedisHex = "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9c";
const std::string kBusyboxHex = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";

Reference must_parse(const std::string& text) {
  auto r = Reference::parse(text);
  INFO(text);
  REQUIRE(r);
  return *r;
}

std::string parse_error(const std::string& text) {
  auto r = Reference::parse(text);
  INFO(text);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::InvalidArgument);
  return r.error().message;
}

Digest digest_of_hex(const std::string& hex) { return *Digest::from_hex(hex); }

}  // namespace

TEST_CASE("reference: familiar, full and ambiguous spellings normalise alike", "[reference]") {
  // normalize_test.go TestParseRepositoryInfo.
  struct Row {
    std::string path, familiar_name, full_name, ambiguous_name, domain;
  };
  const std::vector<Row> rows = {
      {"fooo", "localhost/fooo", "localhost/fooo", "", "localhost"},
      {"fooo/bar", "localhost/fooo/bar", "localhost/fooo/bar", "", "localhost"},
      {"fooo", "LOCALDOMAIN/fooo", "LOCALDOMAIN/fooo", "", "LOCALDOMAIN"},
      {"fooo/bar", "LOCALDOMAIN/fooo/bar", "LOCALDOMAIN/fooo/bar", "", "LOCALDOMAIN"},
      {"fooo/bar", "fooo/bar", "docker.io/fooo/bar", "index.docker.io/fooo/bar", "docker.io"},
      {"library/ubuntu", "ubuntu", "docker.io/library/ubuntu", "library/ubuntu", "docker.io"},
      {"nonlibrary/ubuntu", "nonlibrary/ubuntu", "docker.io/nonlibrary/ubuntu", "", "docker.io"},
      {"other/library", "other/library", "docker.io/other/library", "", "docker.io"},
      {"private/moonbase", "127.0.0.1:8000/private/moonbase", "127.0.0.1:8000/private/moonbase", "",
       "127.0.0.1:8000"},
      {"privatebase", "127.0.0.1:8000/privatebase", "127.0.0.1:8000/privatebase", "",
       "127.0.0.1:8000"},
      {"private/moonbase", "example.com/private/moonbase", "example.com/private/moonbase", "",
       "example.com"},
      {"privatebase", "example.com/privatebase", "example.com/privatebase", "", "example.com"},
      {"private/moonbase", "example.com:8000/private/moonbase", "example.com:8000/private/moonbase",
       "", "example.com:8000"},
      {"privatebasee", "example.com:8000/privatebasee", "example.com:8000/privatebasee", "",
       "example.com:8000"},
      {"library/ubuntu-12.04-base", "ubuntu-12.04-base", "docker.io/library/ubuntu-12.04-base",
       "index.docker.io/library/ubuntu-12.04-base", "docker.io"},
      {"library/foo", "foo", "docker.io/library/foo", "docker.io/foo", "docker.io"},
      {"library/foo/bar", "library/foo/bar", "docker.io/library/foo/bar", "", "docker.io"},
      {"store/foo/bar", "store/foo/bar", "docker.io/store/foo/bar", "", "docker.io"},
      {"bar", "Foo/bar", "Foo/bar", "", "Foo"},
      {"bar", "FOO/bar", "FOO/bar", "", "FOO"},
  };
  for (const Row& row : rows) {
    std::vector<std::string> spellings = {row.familiar_name, row.full_name};
    if (!row.ambiguous_name.empty()) spellings.push_back(row.ambiguous_name);
    for (const std::string& text : spellings) {
      INFO(text);
      Reference r = must_parse(text);
      CHECK(r.domain() == row.domain);
      CHECK(r.path() == row.path);
      CHECK(r.name() == row.full_name);
      CHECK(r.str() == row.full_name);
      CHECK(r.familiar_name() == row.familiar_name);
      CHECK(r.familiar() == row.familiar_name);
      CHECK_FALSE(r.tag());
      CHECK_FALSE(r.digest());
    }
  }
}

TEST_CASE("reference: domain and path split like docker", "[reference]") {
  // normalize_test.go TestNormalizedSplitHostname, plus a few more.
  struct Row {
    std::string input, domain, path;
  };
  const std::vector<Row> rows = {
      {"test.com/foo", "test.com", "foo"},
      {"test_com/foo", "docker.io", "test_com/foo"},
      {"docker/migrator", "docker.io", "docker/migrator"},
      {"test.com:8080/foo", "test.com:8080", "foo"},
      {"test-com:8080/foo", "test-com:8080", "foo"},
      {"foo", "docker.io", "library/foo"},
      {"xn--n3h.com/foo", "xn--n3h.com", "foo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo"},
      {"docker.io/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo", "docker.io", "library/foo"},
      {"docker.io/library/foo/bar", "docker.io", "library/foo/bar"},
      {"index.docker.io/foo", "docker.io", "library/foo"},
      {"localhost/foo", "localhost", "foo"},
      {"localhost", "docker.io", "library/localhost"},
      {"test:8080/foo", "test:8080", "foo"},
      {"sub-dom1.foo.com/bar/baz/quux", "sub-dom1.foo.com", "bar/baz/quux"},
      {"b.gcr.io/test.example.com/my-app", "b.gcr.io", "test.example.com/my-app"},
      {"192.168.1.1/repo", "192.168.1.1", "repo"},
      {"192.168.1.1", "docker.io", "library/192.168.1.1"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    Reference r = must_parse(row.input);
    CHECK(r.domain() == row.domain);
    CHECK(r.path() == row.path);
  }
}

TEST_CASE("reference: tags and digests are parsed", "[reference]") {
  // reference_test.go TestReferenceParse valid rows, seen through ParseNormalizedNamed.
  struct Row {
    std::string input, domain, path, tag, digest, familiar;
  };
  const std::vector<Row> rows = {
      {"test_com", "docker.io", "library/test_com", "", "", "test_com"},
      {"test.com:tag", "docker.io", "library/test.com", "tag", "", "test.com:tag"},
      {"test.com:5000", "docker.io", "library/test.com", "5000", "", "test.com:5000"},
      {"test.com/repo:tag", "test.com", "repo", "tag", "", "test.com/repo:tag"},
      {"test:5000/repo", "test:5000", "repo", "", "", "test:5000/repo"},
      {"test:5000/repo:tag", "test:5000", "repo", "tag", "", "test:5000/repo:tag"},
      {"test:5000/repo@" + kDigestF, "test:5000", "repo", "", kDigestF,
       "test:5000/repo@" + kDigestF},
      {"test:5000/repo:tag@" + kDigestF, "test:5000", "repo", "tag", kDigestF,
       "test:5000/repo:tag@" + kDigestF},
      {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", "",
       "lowercase:Uppercase"},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"},
      {"b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app",
       "test.example.com", "", "b.gcr.io/test.example.com/my-app:test.example.com"},
      {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", "",
       "xn--n3h.com/myimage:xn--n3h.com"},
      {"xn--7o8h.com/myimage:xn--7o8h.com@" + kDigestF, "xn--7o8h.com", "myimage", "xn--7o8h.com",
       kDigestF, "xn--7o8h.com/myimage:xn--7o8h.com@" + kDigestF},
      {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", "", "foo_bar.com:8080"},
      {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", "", "foo/foo_bar.com:8080"},
      {"192.168.1.1:tag", "docker.io", "library/192.168.1.1", "tag", "", "192.168.1.1:tag"},
      {"192.168.1.1:5000/repo:5050", "192.168.1.1:5000", "repo", "5050", "",
       "192.168.1.1:5000/repo:5050"},
      {"busybox:latest@sha256:" + kBusyboxHex, "docker.io", "library/busybox", "latest",
       "sha256:" + kBusyboxHex, "busybox:latest@sha256:" + kBusyboxHex},
      {"redis@sha256:" + kRedisHex, "docker.io", "library/redis", "", "sha256:" + kRedisHex,
       "redis@sha256:" + kRedisHex},
      {"dmcgowan/myapp:latest", "docker.io", "dmcgowan/myapp", "latest", "",
       "dmcgowan/myapp:latest"},
      {"docker.io/dmcgowan/myapp@sha256:" + kRedisHex, "docker.io", "dmcgowan/myapp", "",
       "sha256:" + kRedisHex, "dmcgowan/myapp@sha256:" + kRedisHex},
      {"other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112",
       "other.com", "named", "",
       "sha256:1234567890098765432112345667890098765432112345667890098765432112",
       "other.com/named@sha256:1234567890098765432112345667890098765432112345667890098765432112"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    Reference r = must_parse(row.input);
    CHECK(r.domain() == row.domain);
    CHECK(r.path() == row.path);
    if (row.tag.empty()) {
      CHECK_FALSE(r.tag());
    } else {
      REQUIRE(r.tag());
      CHECK(*r.tag() == row.tag);
    }
    if (row.digest.empty()) {
      CHECK_FALSE(r.digest());
    } else {
      REQUIRE(r.digest());
      CHECK(r.digest()->str() == row.digest);
    }
    CHECK(r.familiar() == row.familiar);
    CHECK(r.str() == r.name() + (row.tag.empty() ? "" : ":" + row.tag) +
                         (row.digest.empty() ? "" : "@" + row.digest));
  }
}

TEST_CASE("reference: valid repository names are accepted", "[reference]") {
  // normalize_test.go TestValidateReferenceName and TestValidateRemoteName.
  const std::vector<std::string> valid = {
      "docker/docker",
      "library/debian",
      "debian",
      "localhost/library/debian",
      "localhost/debian",
      "LOCALDOMAIN/library/debian",
      "LOCALDOMAIN/debian",
      "docker.io/docker/docker",
      "docker.io/library/debian",
      "docker.io/debian",
      "index.docker.io/docker/docker",
      "index.docker.io/library/debian",
      "index.docker.io/debian",
      "127.0.0.1:5000/docker/docker",
      "127.0.0.1:5000/library/debian",
      "127.0.0.1:5000/debian",
      "192.168.0.1",
      "192.168.0.1:80",
      "192.168.0.1:8/debian",
      "192.168.0.2:25000/debian",
      "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
      "[fc00::1]:5000/docker",
      "[fc00::1]:5000/docker/docker",
      "[fc00:1:2:3:4:5:6:7]:5000/library/debian",
      "docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
      "Docker/docker",
      "DOCKER/docker",
      "docker-rules/docker",
      "docker---rules/docker",
      "doc/docker",
      "d/docker",
      "jess/t",
      "dock__er/docker",
  };
  for (const std::string& text : valid) {
    INFO(text);
    CHECK(Reference::parse(text));
  }
}

TEST_CASE("reference: invalid references are rejected with docker's messages", "[reference]") {
  const std::string kFormat = "invalid reference format";
  struct Row {
    std::string input, message;
  };
  const std::vector<Row> rows = {
      {"", kFormat},
      {":justtag", kFormat},
      {"@" + kDigestF, kFormat},
      {"https://github.com/docker/docker", kFormat},
      {"-docker", kFormat},
      {"-docker/docker", kFormat},
      {"-docker.io/docker/docker", kFormat},
      {"docker-/docker", kFormat},
      {"-docker-/docker", kFormat},
      {"____/____", kFormat},
      {"_docker/_docker", kFormat},
      {"docker/", kFormat},
      {"aa/asdf$$^/aa", kFormat},
      {"[fc00::1]", kFormat},
      {"[fc00::1]:5000", kFormat},
      {"fc00::1:5000/debian", kFormat},
      {"[fe80::1%eth0]:5000/debian", kFormat},
      {"[2001:db8:3:4::192.0.2.33]:5000/debian", kFormat},
      {"[fe80::1%@invalidzone]:5000/repo", kFormat},
      {"busybox:", kFormat},
      {"busybox@", kFormat},
      {"busybox:-tag", kFormat},
      {"busybox:.tag", kFormat},
      {"busybox:ta/g", kFormat},
      {"busybox:a:b", kFormat},
      {"busybox@sha256:" + kHexF + "@sha256:" + kHexF, kFormat},
      {"busybox@sha256:abc", kFormat},
      {"test_com:8080/foo", kFormat},
      {"busy box", kFormat},
      {"docker.io/", kFormat},
      {"localhost:/x", kFormat},
      {"this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_"
       "namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_"
       "its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_"
       "than_255/docker",
       "repository name must not be more than 255 characters"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    CHECK(parse_error(row.input) == row.message);
  }
}

TEST_CASE("reference: upper case in the repository name is rejected", "[reference]") {
  struct Row {
    std::string input, message;
  };
  const std::vector<Row> rows = {
      {"docker/Docker",
       "invalid reference format: repository name (docker/Docker) must be lowercase"},
      {"docker.io/docker/Docker",
       "invalid reference format: repository name (docker/Docker) must be lowercase"},
      {"Uppercase:tag",
       "invalid reference format: repository name (library/Uppercase) must be lowercase"},
      {"Busybox", "invalid reference format: repository name (library/Busybox) must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag",
       "invalid reference format: repository name (Uppercase/lowercase) must be lowercase"},
      {"localhost/Foo", "invalid reference format: repository name (Foo) must be lowercase"},
      {"busybox@SHA256:" + kHexF,
       "invalid reference format: repository name (library/busybox@SHA256) must be lowercase"},
      // Upper case in a first component that is taken as a domain but is not a valid host:
      // distribution's Parse reports it without the "invalid reference format" prefix.
      {"Foo_bar.com/x", "repository name must be lowercase"},
      {"FOO_BAR/x", "repository name must be lowercase"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    CHECK(parse_error(row.input) == row.message);
  }
}

TEST_CASE("reference: an upper-case first component is taken as a domain", "[reference]") {
  Reference r = must_parse("Uppercase/lowercase:tag");
  CHECK(r.domain() == "Uppercase");
  CHECK(r.path() == "lowercase");
  CHECK(r.familiar() == "Uppercase/lowercase:tag");
  CHECK(must_parse("Docker.IO/x").domain() == "Docker.IO");  // not normalised to docker.io
}

TEST_CASE("reference: 64-hex strings are not repository names", "[reference]") {
  const std::string hex = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";
  CHECK(parse_error(hex) ==
        "invalid repository name (" + hex + "), cannot specify 64-byte hexadecimal strings");
  CHECK(parse_error(kRedisHex) ==
        "invalid repository name (" + kRedisHex + "), cannot specify 64-byte hexadecimal strings");
  // 63 hex characters, a domain, or a tag make it a name.
  CHECK(must_parse(kRedisHex.substr(0, 63)).path() == "library/" + kRedisHex.substr(0, 63));
  CHECK(must_parse("docker.io/" + hex).path() == "library/" + hex);
  CHECK(must_parse(hex + ":tag").tag() == std::optional<std::string>("tag"));
  // Upper-case hex is not an identifier; it is an upper-case name.
  std::string upper = hex;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(parse_error(upper) ==
        "invalid reference format: repository name (library/" + upper + ") must be lowercase");
}

TEST_CASE("reference: the repository path is limited to 255 characters", "[reference]") {
  const std::string too_long = "repository name must not be more than 255 characters";
  CHECK(parse_error("domain.com/" + std::string(256, 'a') + ":tag") == too_long);
  CHECK(must_parse("example.com/" + std::string(255, 'a') + ":tag").path().size() == 255);
  // The limit applies to the path only: the domain does not count...
  CHECK(must_parse(std::string(100, 'a') + ".com/" + std::string(255, 'b')).path().size() == 255);
  // ...but "library/" does: a familiar official name holds at most 247 characters.
  CHECK(must_parse(std::string(247, 'a')).path().size() == 255);
  CHECK(parse_error(std::string(248, 'a')) == too_long);
  // 127 components of "a/" plus a tag (reference_test.go).
  std::string many;
  for (int i = 0; i < 127; ++i) many += "a/";
  Reference r = must_parse(many + "a:tag-puts-this-over-max");
  CHECK(r.domain() == "docker.io");  // distribution's Parse alone would take the first "a"
  CHECK(r.path() == many + "a");     // exactly 255 characters
}

TEST_CASE("reference: tags are limited to 128 characters", "[reference]") {
  const std::string tag128 = "t" + std::string(127, 'a');
  Reference r = must_parse("busybox:" + tag128);
  CHECK(r.tag() == std::optional<std::string>(tag128));
  CHECK(parse_error("busybox:" + tag128 + "a") == "invalid reference format");
}

TEST_CASE("reference: is_valid_tag", "[reference]") {
  struct Row {
    std::string tag;
    bool valid;
  };
  const std::vector<Row> rows = {
      {"latest", true},
      {"1.36.1-musl", true},
      {"_under", true},
      {"UPPER", true},
      {"a", true},
      {"9", true},
      {"v1_2.3-4", true},
      {std::string(128, 'a'), true},
      {std::string(129, 'a'), false},
      {"", false},
      {"-foo", false},
      {".foo", false},
      {"foo:bar", false},
      {"foo/bar", false},
      {"foo@bar", false},
      {"foo bar", false},
      {"f\xc3\xbc", false},
  };
  for (const Row& row : rows) {
    INFO(row.tag);
    CHECK(imaged::is_valid_tag(row.tag) == row.valid);
  }
}

TEST_CASE("reference: IPv6 hosts in brackets", "[reference]") {
  struct Row {
    std::string input, domain, path, tag;
  };
  const std::vector<Row> rows = {
      {"[::1]:5000/x", "[::1]:5000", "x", ""},
      {"[2001:db8::1]/repo", "[2001:db8::1]", "repo", ""},
      {"[2001:db8:1:2:3:4:5:6]/repo:tag", "[2001:db8:1:2:3:4:5:6]", "repo", "tag"},
      {"[2001:db8::1]:5000/repo:tag", "[2001:db8::1]:5000", "repo", "tag"},
      {"[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", ""},
      {"[FC00::1]:5000/docker", "[FC00::1]:5000", "docker", ""},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    Reference r = must_parse(row.input);
    CHECK(r.domain() == row.domain);
    CHECK(r.path() == row.path);
    CHECK(r.tag().value_or("") == row.tag);
    CHECK(r.familiar_name() == row.domain + "/" + row.path);
  }
  Reference d = must_parse("[2001:db8::1]:5000/repo:tag@" + kDigestF);
  CHECK(d.str() == "[2001:db8::1]:5000/repo:tag@" + kDigestF);
  for (const std::string bad : {"[2001:db8::1]", "[2001:db8::1]:5000", "[2001:db8::1]:tag",
                                "[]:5000/x", "[::1/x", "[::g]/x", "[::1]:/x", "[::1]x/y"}) {
    INFO(bad);
    CHECK(parse_error(bad) == "invalid reference format");
  }
}

TEST_CASE("reference: ports", "[reference]") {
  CHECK(must_parse("localhost:5000/x/y:t").domain() == "localhost:5000");
  CHECK(must_parse("localhost:5000/x/y:t").familiar() == "localhost:5000/x/y:t");
  CHECK(must_parse("example.com:443/x").domain() == "example.com:443");
  CHECK(must_parse("test:5000/repo").domain() == "test:5000");
  CHECK(must_parse("a:0/x").domain() == "a:0");
  // Without a '/', ":5000" is a tag.
  Reference t = must_parse("localhost:5000");
  CHECK(t.path() == "library/localhost");
  CHECK(t.tag() == std::optional<std::string>("5000"));
  for (const std::string bad :
       {"localhost:abc/x", "localhost:5000:1/x", "localhost:-1/x", "example.com:/x"}) {
    INFO(bad);
    CHECK(parse_error(bad) == "invalid reference format");
  }
}

TEST_CASE("reference: empty components and double separators", "[reference]") {
  for (const std::string bad : {"docker///docker", "docker.io/docker///docker", "a//b", "a/b/",
                                "/a", "dock..er/docker", "dock_.er/docker", "dock-.er/docker",
                                "a___b", "a._b", "a-", "a_", "a.", "library//x", ".a"}) {
    INFO(bad);
    CHECK(parse_error(bad) == "invalid reference format");
  }
  for (const std::string good : {"a__b", "a---b", "a.b", "a_b", "a-b/c.d", "a.b-c_d__e"}) {
    INFO(good);
    CHECK(Reference::parse(good));
  }
}

TEST_CASE("reference: sha256 as a repository name", "[reference]") {
  Reference r = must_parse("sha256");
  CHECK(r.str() == "docker.io/library/sha256");
  CHECK(r.familiar() == "sha256");
  // ParseNormalizedNamed reads "sha256:<hex>" as repository "sha256" with a 64-character tag.
  Reference t = must_parse("sha256:" + kRedisHex);
  CHECK(t.path() == "library/sha256");
  CHECK(t.tag() == std::optional<std::string>(kRedisHex));
  CHECK_FALSE(t.digest());
  Reference d = must_parse("sha256@sha256:" + kRedisHex);
  CHECK(d.path() == "library/sha256");
  CHECK(d.digest() == std::optional<Digest>(digest_of_hex(kRedisHex)));
}

TEST_CASE("reference: digest errors follow go-digest", "[reference]") {
  struct Row {
    std::string input, message;
  };
  const std::vector<Row> rows = {
      {"repo@sha256:" + std::string(34, 'f'), "invalid checksum digest length"},
      {"repo@sha256:" + std::string(65, 'f'), "invalid checksum digest length"},
      {"repo@sha256:" + std::string(64, 'F'), "invalid checksum digest format"},
      {"validname@invaliddigest:" + kHexF, "unsupported digest algorithm"},
      {"validname@sha512:" + std::string(128, 'f'), "unsupported digest algorithm"},
      {"repo@md5:" + std::string(32, 'f'), "unsupported digest algorithm"},
      {"repo@sha256+b64:" + kHexF, "unsupported digest algorithm"},
      // Upper case is allowed by the reference grammar but not by go-digest.
      {"repo:tag@SHA256:" + kHexF, "invalid checksum digest format"},
      {"repo:tag@Sha_b:" + kHexF, "invalid checksum digest format"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    CHECK(parse_error(row.input) == row.message);
  }
}

TEST_CASE("reference: a first component with '.' that is not a host is part of the path",
          "[reference]") {
  // splitDockerDomain takes "foo_bar.com" as a domain; distribution's Parse then finds that it
  // is not a host but "foo_bar.com/x" is a valid path, and keeps no domain at all.
  Reference r = must_parse("foo_bar.com/x");
  CHECK(r.domain().empty());
  CHECK(r.path() == "foo_bar.com/x");
  CHECK(r.name() == "foo_bar.com/x");
  CHECK(r.familiar() == "foo_bar.com/x");
  CHECK(r.with_default_tag().str() == "foo_bar.com/x:latest");
}

TEST_CASE("reference: str and familiar round-trip through parse", "[reference]") {
  for (const std::string& text : std::vector<std::string>{
           "busybox", "busybox:musl", "user/app:1", "localhost:5000/x/y:t", "library/foo/bar",
           "[::1]:5000/x", "Foo/bar:t", "gcr.io/a/b/c@sha256:" + kRedisHex,
           "busybox:musl@sha256:" + kRedisHex, "foo_bar.com/x:1"}) {
    INFO(text);
    Reference r = must_parse(text);
    CHECK(must_parse(r.str()) == r);
    CHECK(must_parse(r.familiar()) == r);
    CHECK(must_parse(r.name()) == r.without_tag_or_digest());
    CHECK(must_parse(r.familiar_name()) == r.without_tag_or_digest());
  }
}

TEST_CASE("reference: with_tag keeps the digest and with_digest keeps the tag", "[reference]") {
  const Digest d = digest_of_hex(kRedisHex);
  Reference r = must_parse("test.com:8000/foo");
  CHECK(r.with_tag("TAG5").str() == "test.com:8000/foo:TAG5");
  CHECK(r.with_digest(d).with_tag("TAG5").str() == "test.com:8000/foo:TAG5@sha256:" + kRedisHex);
  CHECK(r.with_tag("latest").with_digest(d).str() ==
        "test.com:8000/foo:latest@sha256:" + kRedisHex);
  CHECK(must_parse("foo").with_tag("tag2").familiar() == "foo:tag2");
  CHECK(must_parse("foo:a").with_tag("b").familiar() == "foo:b");
}

TEST_CASE("reference: with_checked_tag validates the tag", "[reference]") {
  Reference r = must_parse("busybox");
  auto ok = r.with_checked_tag("musl");
  REQUIRE(ok);
  CHECK(ok->familiar() == "busybox:musl");
  auto bad = r.with_checked_tag("-foo");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);
  CHECK(bad.error().message == "invalid tag format");
}

TEST_CASE("reference: without_tag_or_digest and with_default_tag", "[reference]") {
  Reference full = must_parse("busybox:musl@sha256:" + kRedisHex);
  CHECK(full.without_tag_or_digest().str() == "docker.io/library/busybox");
  CHECK(full.without_tag_or_digest() == must_parse("busybox"));
  CHECK(must_parse("busybox").with_default_tag().str() == "docker.io/library/busybox:latest");
  CHECK(must_parse("busybox:musl").with_default_tag().str() == "docker.io/library/busybox:musl");
  CHECK(must_parse("busybox@sha256:" + kRedisHex).with_default_tag().familiar() ==
        "busybox@sha256:" + kRedisHex);
}

TEST_CASE("reference: docker_ref follows ParseDockerRef", "[reference]") {
  // normalize_test.go TestParseDockerRef.
  struct Row {
    std::string input, expected;
  };
  const std::string dg = "sha256:" + kBusyboxHex;
  const std::vector<Row> rows = {
      {"busybox", "docker.io/library/busybox:latest"},
      {"busybox:latest", "docker.io/library/busybox:latest"},
      {"busybox@" + dg, "docker.io/library/busybox@" + dg},
      {"library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox", "docker.io/library/busybox:latest"},
      {"docker.io/busybox:latest", "docker.io/library/busybox:latest"},
      {"library/busybox:latest", "docker.io/library/busybox:latest"},
      {"docker.io/library/busybox:latest", "docker.io/library/busybox:latest"},
      {"gcr.io/library/busybox", "gcr.io/library/busybox:latest"},
      {"gcr.io/library/busybox:latest@" + dg, "gcr.io/library/busybox@" + dg},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    Reference r = must_parse(row.input).docker_ref();
    CHECK(r.str() == row.expected);
    CHECK(imaged::parse_canonical_reference(r.str()));
  }
}

TEST_CASE("reference: parse_repository takes a name only", "[reference]") {
  auto r = Reference::parse_repository("busybox");
  REQUIRE(r);
  CHECK(r->name() == "docker.io/library/busybox");
  CHECK(Reference::parse_repository("localhost:5000/x/y"));
  for (const std::string& bad :
       std::vector<std::string>{"busybox:musl", "busybox@sha256:" + kRedisHex, "x/y:1"}) {
    INFO(bad);
    auto e = Reference::parse_repository(bad);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == Errc::InvalidArgument);
    CHECK(e.error().message == "invalid reference format");
  }
  auto upper = Reference::parse_repository("Busybox");
  REQUIRE_FALSE(upper);
  CHECK(upper.error().message ==
        "invalid reference format: repository name (library/Busybox) must be lowercase");
}

TEST_CASE("reference: parse_canonical_reference does not normalise", "[reference]") {
  // reference_test.go TestReferenceParse, through distribution's Parse.
  struct Row {
    std::string input, domain, path, error;
  };
  const std::vector<Row> rows = {
      {"test_com", "", "test_com", ""},
      {"test.com:5000", "", "test.com", ""},
      {"test:5000/repo", "test:5000", "repo", ""},
      {"192.168.1.1", "", "192.168.1.1", ""},
      {"a/b", "a", "b", ""},
      {"docker.io/library/busybox:musl", "docker.io", "library/busybox", ""},
      {"", "", "", "repository name must have at least one component"},
      {":justtag", "", "", "invalid reference format"},
      {"Uppercase:tag", "", "", "repository name must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag", "", "", "repository name must be lowercase"},
      {"domain/" + std::string(256, 'a') + ":tag", "", "",
       "repository name must not be more than 255 characters"},
  };
  for (const Row& row : rows) {
    INFO(row.input);
    auto r = imaged::parse_canonical_reference(row.input);
    if (row.error.empty()) {
      REQUIRE(r);
      CHECK(r->domain() == row.domain);
      CHECK(r->path() == row.path);
      CHECK(r->str() == row.input);
    } else {
      REQUIRE_FALSE(r);
      CHECK(r.error().message == row.error);
    }
  }
}

TEST_CASE("reference: equality compares every part", "[reference]") {
  CHECK(must_parse("busybox") == must_parse("docker.io/library/busybox"));
  CHECK(must_parse("busybox") == must_parse("index.docker.io/busybox"));
  CHECK_FALSE(must_parse("busybox") == must_parse("busybox:latest"));
  CHECK_FALSE(must_parse("busybox:a") == must_parse("busybox:b"));
  CHECK_FALSE(must_parse("busybox") == must_parse("library/busybox/x"));
  CHECK_FALSE(must_parse("localhost/busybox") == must_parse("busybox"));
  CHECK_FALSE(must_parse("busybox@sha256:" + kRedisHex) == must_parse("busybox@" + kDigestF));
}

TEST_CASE("reference: path_match follows Go's path.Match", "[reference]") {
  // Go's path/match_test.go.
  struct Row {
    std::string pattern, name;
    bool match;
    bool bad_pattern;
  };
  const std::vector<Row> rows = {
      {"abc", "abc", true, false},
      {"*", "abc", true, false},
      {"*c", "abc", true, false},
      {"a*", "a", true, false},
      {"a*", "abc", true, false},
      {"a*", "ab/c", false, false},
      {"a*/b", "abc/b", true, false},
      {"a*/b", "a/c/b", false, false},
      {"a*b*c*d*e*/f", "axbxcxdxe/f", true, false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false},
      {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false},
      {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false},
      {"a*b?c*x", "abxbbxdbxebxczzx", true, false},
      {"a*b?c*x", "abxbbxdbxebxczzy", false, false},
      {"ab[c]", "abc", true, false},
      {"ab[b-d]", "abc", true, false},
      {"ab[e-g]", "abc", false, false},
      {"ab[^c]", "abc", false, false},
      {"ab[^b-d]", "abc", false, false},
      {"ab[^e-g]", "abc", true, false},
      {"a\\*b", "a*b", true, false},
      {"a\\*b", "ab", false, false},
      {"a?b",
       "a\xe2\x98\xba"
       "b",
       true, false},  // a☺b
      {"a[^a]b",
       "a\xe2\x98\xba"
       "b",
       true, false},  // a☺b
      {"a???b",
       "a\xe2\x98\xba"
       "b",
       false, false},  // a☺b
      {"a[^a][^a][^a]b",
       "a\xe2\x98\xba"
       "b",
       false, false},
      {"[a-\xce\xb6]*", "\xce\xb1", true, false},  // [a-ζ]* vs α
      {"*[a-\xce\xb6]", "A", false, false},        // *[a-ζ] vs A
      {"a?b", "a/b", false, false},
      {"a*b", "a/b", false, false},
      {"[\\]a]", "]", true, false},
      {"[\\-]", "-", true, false},
      {"[x\\-]", "x", true, false},
      {"[x\\-]", "-", true, false},
      {"[x\\-]", "z", false, false},
      {"[\\-x]", "x", true, false},
      {"[\\-x]", "-", true, false},
      {"[\\-x]", "a", false, false},
      {"[]a]", "]", false, true},
      {"[-]", "-", false, true},
      {"[x-]", "x", false, true},
      {"[x-]", "-", false, true},
      {"[x-]", "z", false, true},
      {"[-x]", "x", false, true},
      {"[-x]", "-", false, true},
      {"[-x]", "a", false, true},
      {"\\", "a", false, true},
      {"[a-b-c]", "a", false, true},
      {"[", "a", false, true},
      {"[^", "a", false, true},
      {"[^bc", "a", false, true},
      {"a[", "a", false, true},
      {"a[", "ab", false, true},
      {"a[", "x", false, true},
      {"a/b[", "x", false, true},
      {"*x", "xxx", true, false},
      {"", "", true, false},
      {"", "a", false, false},
  };
  for (const Row& row : rows) {
    INFO(row.pattern << " vs " << row.name);
    auto m = imaged::path_match(row.pattern, row.name);
    if (row.bad_pattern) {
      REQUIRE_FALSE(m);
      CHECK(m.error().code == Errc::InvalidArgument);
      CHECK(m.error().message == "syntax error in pattern");
    } else {
      REQUIRE(m);
      CHECK(*m == row.match);
    }
  }
}

TEST_CASE("reference: familiar_match follows distribution's FamiliarMatch", "[reference]") {
  // normalize_test.go TestMatch.
  struct Row {
    std::string reference, pattern;
    bool match;
  };
  const std::vector<Row> rows = {
      {"foo", "foo/**/ba[rz]", false},
      {"foo/any/bat", "foo/**/ba[rz]", false},
      {"foo/a/bar", "foo/**/ba[rz]", true},
      {"foo/b/baz", "foo/**/ba[rz]", true},
      {"foo/c/baz:tag", "foo/**/ba[rz]", true},
      {"foo/c/baz:tag", "foo/*/baz:tag", true},
      {"foo/c/baz:tag", "foo/c/baz:tag", true},
      {"example.com/foo/c/baz:tag", "*/foo/c/baz", true},
      {"example.com/foo/c/baz:tag", "example.com/foo/c/baz", true},
  };
  for (const Row& row : rows) {
    INFO(row.pattern << " vs " << row.reference);
    auto m = imaged::familiar_match(row.pattern, must_parse(row.reference));
    REQUIRE(m);
    CHECK(*m == row.match);
  }
  auto bad = imaged::familiar_match("[-x]", must_parse("foo"));  // TestMatchError
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "syntax error in pattern");
}

TEST_CASE("reference: reference_glob_match as docker images --filter reference", "[reference]") {
  struct Row {
    std::string reference, pattern;
    bool match;
  };
  const std::string dg = "@sha256:" + kRedisHex;
  const std::vector<Row> rows = {
      {"busybox:musl", "busybox", true},
      {"busybox:musl", "busy*", true},
      {"busybox:musl", "busybox:musl", true},
      {"busybox:musl", "busybox:mu*", true},
      {"busybox:musl", "busybox:latest", false},
      {"busybox:musl", "*", true},
      {"busybox:musl", "*:*", true},
      {"busybox:musl", "?????x*", false},
      {"busybox:musl", "library/busybox", false},  // familiar names only
      {"busybox:musl", "docker.io/library/busybox", false},
      {"user/app:1", "*", false},  // '*' does not cross '/'
      {"user/app:1", "*/*", true},
      {"user/app:1", "user/*:1", true},
      {"user/app:1", "user/app:2", false},
      {"localhost:5000/x/y:t", "localhost:5000/*/*", true},
      {"localhost:5000/x/y:t", "localhost:5000/x/y:t", true},
      {"localhost:5000/x/y:t", "*/x/y", true},  // the host holds no '/'
      {"localhost:5000/x/y:t", "x/y", false},
      {"busybox" + dg, "busybox", true},
      {"busybox" + dg, "busybox@sha256:*", true},
      {"busybox:musl" + dg, "busybox:musl@*", true},
      {"busybox:musl" + dg, "busybox:musl", false},  // the familiar string carries the digest
      {"busybox:musl", "[", false},                  // malformed: no match
  };
  for (const Row& row : rows) {
    INFO(row.pattern << " vs " << row.reference);
    CHECK(imaged::reference_glob_match(row.pattern, must_parse(row.reference)) == row.match);
  }
}
