#include "common/images/image_lister.h"

#include <catch2/catch.hpp>

#include <chrono>

#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;
using Strings = std::vector<std::string>;

namespace {

std::vector<ImageSummary> list(StoreFixture& f, ListOptions o = {}) {
  return must(f.service().list(o));
}

Strings ids(const std::vector<ImageSummary>& v) {
  Strings out;
  for (const auto& s : v) out.push_back(s.id.str());
  return out;
}

ImageSpec at(std::string created, std::vector<std::string> tags, std::string salt) {
  ImageSpec s = simple(std::move(tags), "layer " + salt, salt);
  s.created = std::move(created);
  return s;
}

}  // namespace

TEST_CASE("list: one summary per image, newest first, tags familiar and sorted", "[images]") {
  StoreFixture f;
  auto old = f.import(at("2023-01-01T00:00:00Z", {"zeta:1", "alpha:2", "alpha:10"}, "old"));
  auto mid = f.import(at("2024-01-01T00:00:00Z", {"localhost:5000/x/y:1"}, "mid"));
  auto young = f.import(at("2025-06-01T12:00:00.5Z", {"user/app:v1", "busybox:latest"}, "new"));
  auto v = list(f);
  CHECK(ids(v) == Strings{young.id, mid.id, old.id});
  // dockerd's reference store sorts by the full name: docker.io/library/* before docker.io/user/*.
  CHECK(v[0].repo_tags == Strings{"busybox:latest", "user/app:v1"});
  CHECK(v[0].repo_digests ==
        Strings{"busybox@" + young.manifest_digest, "user/app@" + young.manifest_digest});
  CHECK(v[0].created == 1748779200);
  CHECK(v[0].size == young.size);
  CHECK(v[0].shared_size == -1);
  CHECK(v[0].labels.is_null());
  CHECK(v[2].repo_tags == Strings{"alpha:10", "alpha:2", "zeta:1"});
  CHECK(v[1].repo_tags == Strings{"localhost:5000/x/y:1"});
}

TEST_CASE("list: a repository that prefixes another sorts by the full string", "[images]") {
  StoreFixture f;
  f.import(simple({"busybox:musl", "busybox-x:a"}));
  // "busybox-x:a" < "busybox:musl" because '-' < ':'.
  CHECK(list(f)[0].repo_tags == Strings{"busybox-x:a", "busybox:musl"});
}

TEST_CASE("list: reference filter narrows RepoTags and RepoDigests", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "busybox:media", "other:1"}));
  f.import(simple({"nginx:1"}, "nginx layer", "n"));

  ListOptions exact;
  exact.references = {"busybox:musl"};
  auto v = list(f, exact);
  REQUIRE(v.size() == 1);
  CHECK(v[0].repo_tags == Strings{"busybox:musl"});
  CHECK(v[0].repo_digests.empty());

  ListOptions glob;
  glob.references = {"busy*"};
  v = list(f, glob);
  REQUIRE(v.size() == 1);
  CHECK(v[0].repo_tags == Strings{"busybox:media", "busybox:musl"});
  CHECK(v[0].repo_digests == Strings{"busybox@" + img.manifest_digest});

  ListOptions name;  // a bare name matches every tag of the repository
  name.references = {"busybox"};
  CHECK(list(f, name)[0].repo_tags == Strings{"busybox:media", "busybox:musl"});

  ListOptions tag_glob;
  tag_glob.references = {"busybox:mu*"};
  CHECK(list(f, tag_glob)[0].repo_tags == Strings{"busybox:musl"});

  ListOptions any;  // OR between patterns; '*' does not cross '/'
  any.references = {"nginx", "other:*"};
  v = list(f, any);
  REQUIRE(v.size() == 2);

  ListOptions none;
  none.references = {"nosuch*"};
  CHECK(list(f, none).empty());
}

TEST_CASE("list: '*' does not match names with a slash", "[images]") {
  StoreFixture f;
  f.import(simple({"user/app:1"}));
  ListOptions o;
  o.references = {"*"};
  CHECK(list(f, o).empty());
  o.references = {"*/*"};
  CHECK(list(f, o).size() == 1);
}

TEST_CASE("list: dangling filter", "[images]") {
  StoreFixture f;
  auto tagged = f.import(simple({"busybox:musl"}, "a", "a"));
  auto bare = f.import(simple({}, "b", "b"));
  ImageSpec digest_only = simple({}, "c", "c");
  digest_only.digest_repositories = {"busybox"};
  auto digested = f.import(digest_only);

  ListOptions yes;
  yes.dangling = true;
  auto v = list(f, yes);
  CHECK(v.size() == 2);  // the untagged one and the digest-only one
  for (const auto& s : v) CHECK(s.id.str() != tagged.id);

  ListOptions no;
  no.dangling = false;
  v = list(f, no);
  CHECK(v.size() == 2);
  for (const auto& s : v) CHECK(s.id.str() != bare.id);

  CHECK(list(f).size() == 3);
  (void)digested;
}

TEST_CASE("list: before, since, until and labels", "[images]") {
  StoreFixture f;
  auto a = f.import(at("2023-01-01T00:00:00Z", {"a:1"}, "a"));
  auto b = f.import(at("2024-01-01T00:00:00Z", {"b:1"}, "b"));
  ImageSpec cs = at("2025-01-01T00:00:00Z", {"c:1"}, "c");
  cs.labels = {{"team", "nautilus"}, {"env", "test"}};
  auto c = f.import(cs);

  ListOptions before;
  before.before = "b:1";
  CHECK(ids(list(f, before)) == Strings{a.id});
  ListOptions since;
  since.since = "b:1";
  CHECK(ids(list(f, since)) == Strings{c.id});
  ListOptions until;
  until.until = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));  // 2024
  CHECK(ids(list(f, until)) == Strings{a.id});

  ListOptions label;
  label.labels = {"team"};
  CHECK(ids(list(f, label)) == Strings{c.id});
  label.labels = {"team=nautilus", "env=test"};
  CHECK(ids(list(f, label)) == Strings{c.id});
  label.labels = {"team=other"};
  CHECK(list(f, label).empty());
  ListOptions label_not;
  label_not.label_not = {"team"};
  CHECK(ids(list(f, label_not)) == Strings{b.id, a.id});
  CHECK(list(f)[0].labels == nlohmann::json{{"env", "test"}, {"team", "nautilus"}});

  ListOptions missing;
  missing.since = "nosuch";
  auto err = error_of(f.service().list(missing));
  CHECK(err.code == Errc::NotFound);
  CHECK(err.message == "No such image: nosuch:latest");
}

TEST_CASE("list: shared size counts layers other images use", "[images]") {
  StoreFixture f;
  ImageSpec a;
  a.layers = {LayerSpec{"base", 1000, 900}, LayerSpec{"a top", 10}};
  a.tags = {"a:1"};
  ImageSpec b;
  b.layers = {LayerSpec{"base", 1000, 900}, LayerSpec{"b top", 20}};
  b.tags = {"b:1"};
  auto ia = f.import(a);
  auto ib = f.import(b);
  ListOptions o;
  o.shared_size = true;
  for (const auto& s : list(f, o)) {
    CHECK(s.shared_size == 900);  // unpacked sizes where known
    CHECK(s.size == (s.id.str() == ia.id ? 910 : 920));
  }
  (void)ib;
}

TEST_CASE("list: 10k tags on one image list correctly and fast", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  must(f.metadata().write([&](metadata::WriteTx& tx) -> Status {
    for (int i = 0; i < 10000; ++i)
      IMAGED_TRY(tx.set_tag("docker.io/library/busybox", "t" + std::to_string(i), img.id, 1));
    return {};
  }));
  f.import(simple({"other:1"}, "other", "o"));
  const auto start = std::chrono::steady_clock::now();
  auto v = list(f);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(v.size() == 2);
  const auto& big = v[0].id.str() == img.id ? v[0] : v[1];
  CHECK(big.repo_tags.size() == 10001);
  CHECK(std::is_sorted(big.repo_tags.begin(), big.repo_tags.end()));
  CHECK(big.repo_tags.front() == "busybox:musl");  // 'm' < 't'
  CHECK(big.repo_digests.size() == 1);
  // Generous bound (shared 2-core CI); the bench measures the real number.
  CHECK(elapsed < std::chrono::milliseconds(500));

  ListOptions narrow;
  narrow.references = {"busybox:t999*"};
  auto n = list(f, narrow);
  REQUIRE(n.size() == 1);
  CHECK(n[0].repo_tags.size() == 11);  // t999, t9990..t9999
}

TEST_CASE("disk usage: layers shared by images are counted once", "[images]") {
  StoreFixture f;
  ImageSpec a;
  a.layers = {LayerSpec{"base", 1000, 900}, LayerSpec{"a top", 10}};
  a.tags = {"a:1", "a:2"};
  ImageSpec b;
  b.layers = {LayerSpec{"base", 1000, 900}, LayerSpec{"b top", 20}};
  b.tags = {"b:1"};
  f.import(a);
  f.import(b);
  auto du = must(f.service().disk_usage());
  CHECK(du.layers_size == 930);  // unpacked sizes where known
  REQUIRE(du.images.size() == 2);
  for (const auto& s : du.images) {
    CHECK(s.shared_size == 900);
    CHECK(s.containers == 0);
  }
  CHECK(must(f.service().image_count()) == 2);
}

TEST_CASE("list: the cached index follows writes from another process", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  CHECK(list(f)[0].repo_tags == Strings{"busybox:musl"});  // builds and caches the index
  CHECK(list(f)[0].repo_tags == Strings{"busybox:musl"});  // served from the cache
  // Another connection (as another process would) changes names behind the service's back.
  imaged::testing::ExternalStore other(f.root());
  must(other.metadata().write([&](metadata::WriteTx& tx) -> Status {
    IMAGED_TRY(tx.set_tag("docker.io/library/busybox", "external", img.id, 1));
    return {};
  }));
  CHECK(list(f)[0].repo_tags == Strings{"busybox:external", "busybox:musl"});
  auto detail = must(f.service().inspect("busybox:musl"));
  CHECK(detail.summary.repo_tags == Strings{"busybox:external", "busybox:musl"});
  auto second = other.import(simple({"other:1"}, "other layer", "o"));
  CHECK(list(f).size() == 2);
  CHECK(must(f.service().disk_usage()).images.size() == 2);
  (void)second;
}
