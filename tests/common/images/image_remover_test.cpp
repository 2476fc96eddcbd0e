#include "common/images/image_remover.h"

#include <catch2/catch.hpp>

#include "common/images/blob_sweeper.h"
#include "common/images/event_log.h"
#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;
using Strings = std::vector<std::string>;

namespace {

Strings rmi(StoreFixture& f, std::string_view name, bool force = false) {
  return lines(must(f.service().remove(name, force, false)));
}

Strings actions(StoreFixture& f) {
  Strings out;
  for (const auto& e : must(f.events().query(0, INT64_MAX, EventFilter{}))) out.push_back(e.action);
  return out;
}

bool any_blob(StoreFixture& f, const ImportedImage& img) {
  bool any = f.has_blob(img.id) || f.has_blob(img.manifest_digest);
  for (const auto& d : img.layer_digests) any = any || f.has_blob(d);
  return any;
}

bool all_blobs(StoreFixture& f, const ImportedImage& img) {
  bool all = f.has_blob(img.id) && f.has_blob(img.manifest_digest);
  for (const auto& d : img.layer_digests) all = all && f.has_blob(d);
  return all;
}

}  // namespace

TEST_CASE("rmi: a tag while other refs remain only untags", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "busybox:media"}));
  CHECK(rmi(f, "busybox:media") == Strings{"Untagged: busybox:media"});
  CHECK(must(f.service().resolve("busybox:musl")).str() == img.id);
  CHECK(all_blobs(f, img));
  CHECK(actions(f) == Strings{"untag"});
}

TEST_CASE("rmi: the last tag untags the repo's digests, deletes and frees blobs", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  REQUIRE(all_blobs(f, img));
  CHECK(rmi(f, "busybox:musl") == Strings{"Untagged: busybox:musl",
                                          "Untagged: busybox@" + img.manifest_digest,
                                          "Deleted: " + img.id, "Deleted: " + img.chain_ids()[0]});
  CHECK_FALSE(any_blob(f, img));
  CHECK(must(f.service().image_count()) == 0);
  CHECK(actions(f) == Strings{"untag", "delete"});
  auto events = must(f.events().query(0, INT64_MAX, EventFilter{}));
  CHECK(events[0].attributes.at("name") == img.id);  // 20.10: the image ID, not the tag
  CHECK(events[1].actor_id == img.id);
}

TEST_CASE("rmi: the last tag of one repo keeps the image named elsewhere", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "127.0.0.1:5000/test/busybox:media"}));
  CHECK(rmi(f, "busybox:musl") ==
        Strings{"Untagged: busybox:musl", "Untagged: busybox@" + img.manifest_digest});
  auto v = must(f.service().list({}));
  REQUIRE(v.size() == 1);
  CHECK(v[0].repo_tags == Strings{"127.0.0.1:5000/test/busybox:media"});
  CHECK(v[0].repo_digests == Strings{"127.0.0.1:5000/test/busybox@" + img.manifest_digest});
  CHECK(all_blobs(f, img));
}

TEST_CASE("rmi: by ID with refs in several repositories is a 409 without force", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "other:1"}));
  for (const std::string& name : {img.short_id(), img.id, img.hex(), img.hex().substr(0, 4)}) {
    auto err = error_of(f.service().remove(name, false, false));
    CHECK(err.code == Errc::Conflict);
    CHECK(err.message == "conflict: unable to delete " + img.short_id() +
                             " (must be forced) - image is referenced in multiple repositories");
  }
  CHECK(must(f.service().list({}))[0].repo_tags.size() == 2);
  CHECK(actions(f).empty());
}

TEST_CASE("rmi: by ID with two tags in one repository is a 409 too (dockerd)", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "busybox:media"}));
  CHECK(error_of(f.service().remove(img.short_id(), false, false)).code == Errc::Conflict);
}

TEST_CASE("rmi: by ID with one repository and one tag removes everything", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  CHECK(rmi(f, img.short_id()) == Strings{"Untagged: busybox:musl",
                                          "Untagged: busybox@" + img.manifest_digest,
                                          "Deleted: " + img.id, "Deleted: " + img.chain_ids()[0]});
  CHECK_FALSE(any_blob(f, img));
}

TEST_CASE("rmi: force by ID untags every ref then deletes", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "busybox:media", "other:1"}));
  CHECK(rmi(f, img.id, true) == Strings{"Untagged: busybox:media", "Untagged: busybox:musl",
                                        "Untagged: busybox@" + img.manifest_digest,
                                        "Untagged: other:1",
                                        "Untagged: other@" + img.manifest_digest,
                                        "Deleted: " + img.id, "Deleted: " + img.chain_ids()[0]});
  CHECK_FALSE(any_blob(f, img));
  CHECK(actions(f) == Strings{"untag", "untag", "untag", "untag", "untag", "delete"});
}

TEST_CASE("rmi: a dangling image by ID is deleted", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({}));
  CHECK(rmi(f, img.short_id()) == Strings{"Deleted: " + img.id, "Deleted: " + img.chain_ids()[0]});
}

TEST_CASE("rmi: by digest reference", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  // The digest ref alone goes; the tag keeps the image.
  CHECK(rmi(f, "busybox@" + img.manifest_digest) ==
        Strings{"Untagged: busybox@" + img.manifest_digest});
  CHECK(must(f.service().list({}))[0].repo_digests.empty());
  CHECK(all_blobs(f, img));
}

TEST_CASE("rmi: shared layers are freed only with their last image", "[images]") {
  StoreFixture f;
  ImageSpec a;
  a.layers = {LayerSpec{"base"}, LayerSpec{"a top"}};
  a.tags = {"a:1"};
  ImageSpec b;
  b.layers = {LayerSpec{"base"}, LayerSpec{"b top"}};
  b.tags = {"b:1"};
  auto ia = f.import(a);
  auto ib = f.import(b);
  CHECK(rmi(f, "a:1") == Strings{"Untagged: a:1", "Untagged: a@" + ia.manifest_digest,
                                 "Deleted: " + ia.id, "Deleted: " + ia.chain_ids()[1]});
  CHECK(f.has_blob(ia.layer_digests[0]));  // still used by b
  CHECK_FALSE(f.has_blob(ia.layer_digests[1]));
  // Top layer first, then the base.
  CHECK(rmi(f, "b:1") == Strings{"Untagged: b:1", "Untagged: b@" + ib.manifest_digest,
                                 "Deleted: " + ib.id, "Deleted: " + ib.chain_ids()[1],
                                 "Deleted: " + ib.chain_ids()[0]});
  CHECK_FALSE(f.has_blob(ib.layer_digests[0]));
}

TEST_CASE("rmi: missing image and invalid reference", "[images]") {
  StoreFixture f;
  f.import(simple({"busybox:musl"}));
  auto missing = error_of(f.service().remove("nosuch:tag", false, false));
  CHECK(missing.code == Errc::NotFound);
  CHECK(missing.message == "No such image: nosuch:tag");
  auto bad = error_of(f.service().remove("BusyBox:x", false, false));
  CHECK(bad.code == Errc::InvalidArgument);
  CHECK_THAT(bad.message, Catch::Contains("must be lowercase"));
}

TEST_CASE("rmi: blobs are unlinked only after the transaction commits", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  // Inside a write transaction that then fails, deleting the image frees nothing on disk.
  auto r = f.metadata().write([&](metadata::WriteTx& tx) -> Status {
    IMAGED_TRY(tx.remove_tag("docker.io/library/busybox", "musl", 1));
    IMAGED_TRY(tx.remove_repo_digest("docker.io/library/busybox", img.manifest_digest));
    auto freed = IMAGED_TRY(tx.delete_image(img.id));
    CHECK(freed.size() == 3);
    // Nothing was unlinked by the store itself...
    CHECK(all_blobs(f, img));
    // ...and the sweeper refuses while the rows still exist for everyone else (uncommitted).
    CHECK(must(f.service().sweeper().sweep(freed)) == 0);
    return fail(Errc::Canceled, "roll back");
  });
  CHECK_FALSE(r);
  CHECK(all_blobs(f, img));
  CHECK(must(f.service().resolve("busybox:musl")).str() == img.id);
}

TEST_CASE("prune: dangling only by default, fixed point in one pass", "[images]") {
  StoreFixture f;
  auto tagged = f.import(simple({"busybox:musl"}, "a", "a"));
  ImageSpec bare_spec = simple({}, "b", "b");
  bare_spec.layers[0].unpacked_size = 7;  // reclaimed counts unpacked bytes where known
  auto bare = f.import(bare_spec);
  ImageSpec ds = simple({}, "c", "c");
  ds.digest_repositories = {"busybox"};
  auto digest_only = f.import(ds);

  PruneOptions o;
  auto report = must(f.service().prune(o));
  Strings got = lines(report.deleted);
  std::sort(got.begin(), got.end());
  Strings want = {"Deleted: " + bare.id, "Deleted: " + bare.chain_ids()[0],
                  "Deleted: " + digest_only.id, "Deleted: " + digest_only.chain_ids()[0],
                  "Untagged: busybox@" + digest_only.manifest_digest};
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  CHECK(report.space_reclaimed == 7 + digest_only.size);
  CHECK_FALSE(any_blob(f, bare));
  CHECK_FALSE(any_blob(f, digest_only));
  CHECK(all_blobs(f, tagged));

  auto again = must(f.service().prune(o));
  CHECK(again.deleted.empty());
  CHECK(again.space_reclaimed == 0);
  auto events = must(f.events().query(0, INT64_MAX, EventFilter{}));
  REQUIRE_FALSE(events.empty());
  CHECK(events.back().action == "prune");
  CHECK(events.back().actor_id.empty());
  CHECK(events.back().attributes.at("reclaimed") == "0");
}

TEST_CASE("prune: dangling=false removes every image; until and labels select", "[images]") {
  StoreFixture f;
  ImageSpec old_spec = simple({"old:1", "old:2"}, "o", "o");
  old_spec.created = "2020-01-01T00:00:00Z";
  auto old_img = f.import(old_spec);
  ImageSpec kept_spec = simple({"keep:1"}, "k", "k");
  kept_spec.created = "2020-01-01T00:00:00Z";
  kept_spec.labels = {{"keep", "yes"}};
  auto kept = f.import(kept_spec);
  ImageSpec young_spec = simple({"young:1"}, "y", "y");
  young_spec.created = "2030-01-01T00:00:00Z";
  auto young = f.import(young_spec);

  PruneOptions o;
  o.dangling_only = false;
  o.until = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  o.label_not = {"keep=yes"};
  auto report = must(f.service().prune(o));
  CHECK(lines(report.deleted) ==
        Strings{"Untagged: old:1", "Untagged: old:2", "Untagged: old@" + old_img.manifest_digest,
                "Deleted: " + old_img.id, "Deleted: " + old_img.chain_ids()[0]});
  CHECK(report.space_reclaimed == old_img.size);
  CHECK(must(f.service().image_count()) == 2);
  CHECK(all_blobs(f, kept));
  CHECK(all_blobs(f, young));
  CHECK(must(f.service().prune(o)).deleted.empty());

  PruneOptions labels;
  labels.dangling_only = false;
  labels.labels = {"keep"};
  CHECK(lines(must(f.service().prune(labels)).deleted).size() == 4);
  CHECK(must(f.service().image_count()) == 1);
}
