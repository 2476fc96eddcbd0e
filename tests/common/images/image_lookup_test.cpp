#include "common/images/image_lookup.h"

#include <catch2/catch.hpp>

#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;

namespace {

Result<std::string> lookup(StoreFixture& f, std::string_view name) {
  auto r = f.metadata().read([&](metadata::ReadTx& tx) { return lookup_image(tx, name); });
  if (!r) return fail(r.error());
  return r->image_id;
}

}  // namespace

TEST_CASE("lookup: tags, default tag and normalised repository forms", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "busybox", "127.0.0.1:5000/team/app:v1"}));
  for (const char* name :
       {"busybox:musl", "docker.io/library/busybox:musl", "index.docker.io/library/busybox:musl",
        "library/busybox:musl", "busybox", "busybox:latest", "127.0.0.1:5000/team/app:v1"}) {
    INFO(name);
    CHECK(must(lookup(f, name)) == img.id);
  }
}

TEST_CASE("lookup: full and short IDs, with or without sha256:", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  CHECK(must(lookup(f, img.id)) == img.id);
  CHECK(must(lookup(f, img.hex())) == img.id);
  CHECK(must(lookup(f, img.short_id())) == img.id);
  CHECK(must(lookup(f, "sha256:" + img.short_id())) == img.id);
  CHECK(must(lookup(f, img.hex().substr(0, 1))) == img.id);  // one character is enough
}

TEST_CASE("lookup: an ambiguous ID prefix is a clear 404", "[images]") {
  StoreFixture f;
  // Import until two IDs share their first hex digit.
  std::vector<ImportedImage> imgs;
  std::string shared;
  for (int i = 0; i < 40 && shared.empty(); ++i) {
    imgs.push_back(f.import(simple({}, "layer", "salt" + std::to_string(i))));
    for (size_t j = 0; j + 1 < imgs.size(); ++j)
      if (imgs[j].hex()[0] == imgs.back().hex()[0]) shared = imgs.back().hex().substr(0, 1);
  }
  REQUIRE_FALSE(shared.empty());
  auto err = error_of(lookup(f, shared));
  CHECK(err.code == Errc::NotFound);
  CHECK_THAT(err.message, Catch::StartsWith("No such image: " + shared + ":latest"));
  CHECK_THAT(err.message, Catch::Contains("ambiguous"));
}

TEST_CASE("lookup: repo@digest and name:tag@digest resolve by manifest digest", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  CHECK(must(lookup(f, "busybox@" + img.manifest_digest)) == img.id);
  CHECK(must(lookup(f, "docker.io/library/busybox@" + img.manifest_digest)) == img.id);
  // The digest wins over a tag that does not exist.
  CHECK(must(lookup(f, "busybox:nosuch@" + img.manifest_digest)) == img.id);
  // A digest known only in another repository is not found.
  auto err = error_of(lookup(f, "other@" + img.manifest_digest));
  CHECK(err.code == Errc::NotFound);
  CHECK(err.message == "No such image: other@" + img.manifest_digest);
}

TEST_CASE("lookup: a bare manifest digest is not an image ID", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  auto err = error_of(lookup(f, img.manifest_digest));
  CHECK(err.code == Errc::NotFound);
  CHECK(err.message == "No such image: " + img.manifest_digest);
  auto bare = error_of(lookup(f, img.manifest_digest.substr(7)));
  CHECK(bare.code == Errc::NotFound);
}

TEST_CASE("lookup: dockerd's 404 wording and 400 for bad references", "[images]") {
  StoreFixture f;
  f.import(simple({"busybox:musl"}));
  auto err = error_of(lookup(f, "nosuch"));
  CHECK(err.code == Errc::NotFound);
  CHECK(err.message == "No such image: nosuch:latest");
  CHECK(error_of(lookup(f, "busybox:nosuch")).message == "No such image: busybox:nosuch");
  CHECK(error_of(lookup(f, "localhost:5000/x/y")).message ==
        "No such image: localhost:5000/x/y:latest");
  auto bad = error_of(lookup(f, "BusyBox"));
  CHECK(bad.code == Errc::InvalidArgument);
  CHECK_THAT(bad.message, Catch::StartsWith("invalid reference format"));
  CHECK(error_of(lookup(f, "busybox:Bad Tag!")).code == Errc::InvalidArgument);
  CHECK(error_of(lookup(f, "")).code == Errc::InvalidArgument);
}

TEST_CASE("lookup: a tag named like a hex prefix wins over the ID search", "[images]") {
  StoreFixture f;
  auto a = f.import(simple({}, "layer a", "a"));
  auto b = f.import(simple({}, "layer b", "b"));
  // Tag image b as "<a's short id>:latest": the name resolves to b, as in dockerd.
  must(f.service().tag(b.id, must(Reference::parse(a.short_id()))));
  CHECK(must(lookup(f, a.short_id())) == b.id);
  CHECK(must(lookup(f, a.id)) == a.id);
}
