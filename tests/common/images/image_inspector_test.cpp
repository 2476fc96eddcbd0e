#include "common/images/image_inspector.h"

#include <catch2/catch.hpp>

#include "common/images/timestamps.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;
using Strings = std::vector<std::string>;

TEST_CASE("inspect: both tags give the same image with config fields", "[images]") {
  StoreFixture f;
  ImageSpec spec = simple({"busybox:musl", "busybox:media"});
  spec.created = "2024-01-01T00:00:00.123456789Z";
  spec.comment = "Imported from -";
  spec.labels = {{"k", "v"}};
  auto img = f.import(spec);
  auto a = must(f.service().inspect("busybox:musl"));
  auto b = must(f.service().inspect("busybox:media"));
  CHECK(a.summary.id.str() == img.id);
  CHECK(b.summary.id.str() == img.id);
  CHECK(a.summary.repo_tags == Strings{"busybox:media", "busybox:musl"});
  CHECK(a.summary.repo_digests == Strings{"busybox@" + img.manifest_digest});
  CHECK(a.summary.size == img.size);
  CHECK(a.summary.labels == nlohmann::json{{"k", "v"}});
  CHECK(format_rfc3339_nano(a.created_ns) == "2024-01-01T00:00:00.123456789Z");
  CHECK(a.comment == "Imported from -");
  CHECK(a.os == "linux");
  CHECK(a.architecture == "amd64");
  CHECK(a.config["Cmd"] == nlohmann::json{"sh"});
  CHECK(a.diff_ids == img.diff_ids);
  CHECK(a.manifest_digest->str() == img.manifest_digest);
  CHECK(a.last_tag_ns.has_value());
  CHECK(a.container_config.is_null());
}

TEST_CASE("inspect: legacy container fields are passed through", "[images]") {
  StoreFixture f;
  ImageSpec spec = simple({"old:1"});
  spec.extra_config = {{"container", "abc123"},
                       {"container_config", {{"Hostname", "abc123"}, {"Cmd", {"/bin/sh"}}}}};
  f.import(spec);
  auto d = must(f.service().inspect("old:1"));
  CHECK(d.container == "abc123");
  CHECK(d.container_config["Hostname"] == "abc123");
}

TEST_CASE("inspect: missing image and bad name", "[images]") {
  StoreFixture f;
  CHECK(error_of(f.service().inspect("nosuch")).message == "No such image: nosuch:latest");
  CHECK(error_of(f.service().inspect("Bad")).code == Errc::InvalidArgument);
}

TEST_CASE("history: newest first, top row is the image with its tags", "[images]") {
  StoreFixture f;
  ImageSpec spec;
  // Size is the unpacked size where known (base), else the uncompressed one (top).
  spec.layers = {LayerSpec{"base", 5000, 4000}, LayerSpec{"top", 70}};
  spec.tags = {"app:v1", "app:v2"};
  spec.history = nlohmann::json::array(
      {{{"created", "2024-01-01T00:00:00Z"}, {"created_by", "ADD base"}},
       {{"created", "2024-01-02T00:00:00Z"}, {"created_by", "ENV X=1"}, {"empty_layer", true}},
       {{"created", "2024-01-03T00:00:00Z"}, {"created_by", "RUN top"}, {"comment", "c"}},
       {{"created", "2024-01-04T00:00:00Z"},
        {"created_by", "CMD [\"sh\"]"},
        {"empty_layer", true}}});
  auto img = f.import(spec);
  auto h = must(f.service().history("app:v1"));
  REQUIRE(h.size() == 4);
  CHECK(h[0].id == img.id);
  CHECK(h[0].tags == std::optional<Strings>(Strings{"app:v1", "app:v2"}));
  CHECK(h[0].size == 0);
  CHECK(h[0].created == 1704326400);
  CHECK(h[1].id == "<missing>");
  CHECK_FALSE(h[1].tags.has_value());
  CHECK(h[1].size == 70);
  CHECK(h[1].comment == "c");
  CHECK(h[2].size == 0);
  CHECK(h[3].size == 4000);
  CHECK(h[3].created_by == "ADD base");
}

TEST_CASE("history: untagged image has null tags; digests are not tags", "[images]") {
  StoreFixture f;
  ImageSpec spec = simple({});
  spec.digest_repositories = {"busybox"};
  auto img = f.import(spec);
  auto h = must(f.service().history(img.short_id()));
  REQUIRE(h.size() == 2);
  CHECK(h[0].id == img.id);
  CHECK_FALSE(h[0].tags.has_value());
}

TEST_CASE("history: more non-empty entries than layers is an error", "[images]") {
  StoreFixture f;
  ImageSpec spec = simple({"x:1"});
  spec.history = nlohmann::json::array({{{"created_by", "a"}}, {{"created_by", "b"}}});
  f.import(spec);
  auto err = error_of(f.service().history("x:1"));
  CHECK(err.message == "too many non-empty layers in History section");
}
