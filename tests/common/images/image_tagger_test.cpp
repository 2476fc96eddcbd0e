#include "common/images/image_tagger.h"

#include <catch2/catch.hpp>

#include "common/images/event_log.h"
#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;

namespace {

Reference parse_ref(std::string_view text) { return must(Reference::parse(text)); }

std::vector<ImageSummary> all(StoreFixture& f) { return must(f.service().list(ListOptions{})); }

}  // namespace

TEST_CASE("tag: a new tag points at the same image ID", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  must(f.service().tag("busybox:musl", parse_ref("busybox:media")));
  auto list = all(f);
  REQUIRE(list.size() == 1);
  CHECK(list[0].id.str() == img.id);
  CHECK(list[0].repo_tags == std::vector<std::string>{"busybox:media", "busybox:musl"});
  CHECK(must(f.service().resolve("busybox:media")).str() == img.id);
}

TEST_CASE("tag: by short and full ID; no tag means latest", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  must(f.service().tag(img.short_id(), parse_ref("busybox:short")));
  must(f.service().tag(img.id, parse_ref("busybox:full")));
  must(f.service().tag(img.hex(), parse_ref("registry.local:5000/team/busybox")));
  CHECK(all(f)[0].repo_tags == std::vector<std::string>{"busybox:full", "busybox:musl",
                                                        "busybox:short",
                                                        "registry.local:5000/team/busybox:latest"});
}

TEST_CASE("tag: moving a tag is silent and recorded in tag history", "[images]") {
  StoreFixture f;
  auto a = f.import(simple({"app:v1"}, "layer a", "a"));
  auto b = f.import(simple({"app:v2"}, "layer b", "b"));
  must(f.service().tag("app:v1", parse_ref("app:prod")));
  must(f.service().tag("app:v2", parse_ref("app:prod")));  // move
  must(f.service().tag("app:v2", parse_ref("app:prod")));  // no change
  CHECK(must(f.service().resolve("app:prod")).str() == b.id);
  auto moves = must(f.metadata().read(
      [](metadata::ReadTx& tx) { return tx.tag_history("docker.io/library/app", "prod", 10); }));
  REQUIRE(moves.size() == 2);
  CHECK(moves[0].old_image_id == a.id);
  CHECK(moves[0].new_image_id == b.id);
  CHECK_FALSE(moves[1].old_image_id.has_value());
  CHECK(moves[1].new_image_id == a.id);
}

TEST_CASE("tag: refusals with dockerd's messages", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  auto digest =
      error_of(f.service().tag("busybox:musl", parse_ref("busybox@" + img.manifest_digest)));
  CHECK(digest.code == Errc::InvalidArgument);
  CHECK(digest.message == "refusing to create a tag with a digest reference");
  auto algo = error_of(f.service().tag("busybox:musl", parse_ref("sha256:abc")));
  CHECK(algo.code == Errc::InvalidArgument);
  CHECK(algo.message == "refusing to create an ambiguous tag using digest algorithm as name");
  auto missing = error_of(f.service().tag("nosuch", parse_ref("busybox:x")));
  CHECK(missing.code == Errc::NotFound);
  CHECK(missing.message == "No such image: nosuch:latest");
  CHECK(all(f)[0].repo_tags == std::vector<std::string>{"busybox:musl"});
}

TEST_CASE("tag: sets LastTagTime and logs a tag event with the new ref", "[images]") {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  StoreFixture f([&] { return t; });
  auto img = f.import(simple({"busybox:musl"}));
  t += std::chrono::seconds(5);
  must(f.service().tag("busybox:musl", parse_ref("busybox:media")));
  auto detail = must(f.service().inspect("busybox:media"));
  REQUIRE(detail.last_tag_ns.has_value());
  CHECK(*detail.last_tag_ns == 1'800'000'005'000'000'000);
  auto events = must(f.events().query(0, INT64_MAX, EventFilter{}));
  REQUIRE(events.size() == 1);
  CHECK(events[0].action == "tag");
  CHECK(events[0].actor_id == img.id);
  CHECK(events[0].attributes.at("name") == "busybox:media");
  CHECK(events[0].time_ns == 1'800'000'005'000'000'000);
}
