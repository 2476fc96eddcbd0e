#include "common/metadata/transaction.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metadata/metadata_store.h"
#include "common/metadata/sqlite.h"
#include "tests/common/metadata/metadata_test_util.h"

using imaged::Errc;
using imaged::Result;
using imaged::Status;
using namespace imaged::metadata;
using namespace imaged::metadata::testing;

namespace {

constexpr const char* kRepo = "docker.io/library/busybox";

template <class F>
auto rd(MetadataStore& store, F&& fn) {
  return must(store.read(std::forward<F>(fn)));
}

template <class F>
auto wr(MetadataStore& store, F&& fn) {
  return must(store.write(std::forward<F>(fn)));
}

// A raw connection on the same file, for inspecting or corrupting it behind the store's back.
Connection raw(const TempDir& dir) { return must(Connection::open(dir.db(), ConnectionOptions{})); }

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

// ------------------------------------------------------------------------- images

TEST_CASE("tx: put_image records the image, layers and manifests", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  auto spec = make_image("a", {make_layer("l1", 10), make_layer("l2", 20)});
  spec.manifests.insert(spec.manifests.begin(), make_manifest("idx", 300, ManifestKind::Index));
  spec.image.size = 999'999;          // ignored: derived
  spec.image.content_size = 999'999;  // ignored: derived
  spec.image.last_used_ns = 77;
  CHECK(must(put(*store, spec)));

  const ImageRecord got = rd(*store, [&](ReadTx& tx) { return tx.get_image(spec.image.id); });
  ImageRecord expected = spec.image;
  expected.size = 30 + 60;                       // uncompressed layer sizes
  expected.content_size = 100 + 500 + 300 + 30;  // config + manifest + index + layers
  CHECK(got == expected);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.layers_of(spec.image.id); }) == spec.layers);
  // Index first, then manifests.
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.manifests_of(spec.image.id); }) == spec.manifests);
  CHECK(rd(*store, [](ReadTx& tx) { return tx.image_count(); }) == 1);
  // Unknown images have no layers or manifests.
  CHECK(rd(*store, [](ReadTx& tx) { return tx.layers_of("sha256:00"); }).empty());
  CHECK(rd(*store, [](ReadTx& tx) { return tx.manifests_of("sha256:00"); }).empty());
}

TEST_CASE("tx: put_image of an existing id changes nothing", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  CHECK(must(put(*store, spec)));
  auto again = spec;
  again.image.os = "windows";
  again.layers.push_back(make_layer("l9", 1));
  CHECK_FALSE(must(put(*store, again)));
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(spec.image.id); }).os == "linux");
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(spec.layers[0].digest); }) == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(spec.image.id); }) == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(make_layer("l9", 1).digest); }) == 0);
}

TEST_CASE("tx: put_image rejects malformed input and writes nothing", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  auto check_rejected = [&](const ImageSpec& spec, std::string_view fragment) {
    auto r = put(*store, spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::InvalidArgument);
    CHECK_THAT(r.error().message, Catch::Contains(std::string(fragment)));
    CHECK(rd(*store, [](ReadTx& tx) { return tx.list_blobs(); }).empty());
  };
  auto base = make_image("a", {make_layer("l1", 10)});

  auto bad_id = base;
  bad_id.image.id = "sha256:ABC";
  check_rejected(bad_id, "image id");

  auto bad_layer = base;
  bad_layer.layers[0].digest = "md5:1234";
  check_rejected(bad_layer, "layer digest");

  auto bad_diff = base;
  bad_diff.layers[0].diff_id = "";
  check_rejected(bad_diff, "diff_id");

  auto negative = base;
  negative.layers[0].size = -1;
  check_rejected(negative, "negative");

  auto negative_unpacked = base;
  negative_unpacked.layers[0].unpacked_size = -1;
  check_rejected(negative_unpacked, "negative");

  auto twice = base;
  twice.manifests.push_back(twice.manifests[0]);
  check_rejected(twice, "listed twice");

  auto no_type = base;
  no_type.image.config_media_type.clear();
  check_rejected(no_type, "media type");

  auto two_sizes = base;
  auto l1_bigger = make_layer("l1", 11);
  two_sizes.layers.push_back(l1_bigger);
  check_rejected(two_sizes, "two sizes");
}

TEST_CASE("tx: get_image of an unknown id is NotFound", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  auto r = store->read([](ReadTx& tx) { return tx.get_image(digest_of("nothing")); });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::NotFound);
  CHECK_THAT(r.error().message, Catch::Contains("No such image"));
}

TEST_CASE("tx: find_image_ids_by_prefix resolves short ids", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  // 40 images: by pigeonhole at least two share their first hex digit.
  std::vector<std::string> ids;
  wr(*store, [&](WriteTx& tx) -> Status {
    for (int i = 0; i < 40; ++i) {
      auto spec = make_image("img" + std::to_string(i), {});
      IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
      ids.push_back(spec.image.id);
    }
    return {};
  });
  std::map<char, std::vector<std::string>> by_first;
  for (const auto& id : ids) by_first[id[7]].push_back(id);
  auto shared = std::find_if(by_first.begin(), by_first.end(),
                             [](const auto& kv) { return kv.second.size() >= 2; });
  REQUIRE(shared != by_first.end());

  auto find = [&](std::string prefix, int64_t limit) {
    return store->read([&](ReadTx& tx) { return tx.find_image_ids_by_prefix(prefix, limit); });
  };
  // Ambiguous one-character prefix: every match, sorted, bounded by the limit.
  const std::string one(1, shared->first);
  CHECK(must(find(one, 100)) == sorted(shared->second));
  CHECK(must(find(one, 2)).size() == 2);
  CHECK(must(find(one, 0)).empty());
  // A unique 12-character prefix, with or without "sha256:", and the full id.
  const std::string& id = ids[3];
  CHECK(must(find(id.substr(7, 12), 2)) == std::vector<std::string>{id});
  CHECK(must(find("sha256:" + id.substr(7, 12), 2)) == std::vector<std::string>{id});
  CHECK(must(find(id, 2)) == std::vector<std::string>{id});
  // A prefix matching nothing.
  std::string absent = id.substr(7);
  absent.back() = absent.back() == '0' ? '1' : '0';
  CHECK(must(find(absent, 2)).empty());
  // Malformed prefixes.
  for (std::string bad : {std::string(), std::string("ABC"), std::string("xyz"),
                          std::string(65, 'a'), std::string("sha256:")}) {
    auto r = find(bad, 2);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::InvalidArgument);
  }
}

TEST_CASE("tx: list_images is newest first", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  must(put(*store, make_image("old", {}, 100)));
  must(put(*store, make_image("new", {}, 300)));
  must(put(*store, make_image("mid", {}, 200)));
  const auto images = rd(*store, [](ReadTx& tx) { return tx.list_images(); });
  REQUIRE(images.size() == 3);
  CHECK(images[0].created_ns == 300);
  CHECK(images[1].created_ns == 200);
  CHECK(images[2].created_ns == 100);
  CHECK(images[0].labels_json == R"({"name":"new"})");
}

TEST_CASE("tx: touch_last_used and set_pinned", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {});
  must(put(*store, spec));
  wr(*store, [&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.touch_last_used(spec.image.id, 123));
    return tx.set_pinned(spec.image.id, true);
  });
  auto image = rd(*store, [&](ReadTx& tx) { return tx.get_image(spec.image.id); });
  CHECK(image.last_used_ns == std::optional<int64_t>(123));
  CHECK(image.pinned);
  wr(*store, [&](WriteTx& tx) { return tx.set_pinned(spec.image.id, false); });
  CHECK_FALSE(rd(*store, [&](ReadTx& tx) { return tx.get_image(spec.image.id); }).pinned);

  const std::string unknown = digest_of("config:none");
  auto touched = store->write([&](WriteTx& tx) { return tx.touch_last_used(unknown, 1); });
  REQUIRE_FALSE(touched);
  CHECK(touched.error().code == Errc::NotFound);
  auto pinned = store->write([&](WriteTx& tx) { return tx.set_pinned(unknown, true); });
  REQUIRE_FALSE(pinned);
  CHECK(pinned.error().code == Errc::NotFound);
}

TEST_CASE("tx: add_manifests records new manifests once", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  must(put(*store, spec));
  const auto other = make_manifest("a-via-mirror", 450);
  const int64_t added = wr(*store, [&](WriteTx& tx) {
    std::vector<ManifestRecord> list = {spec.manifests[0], other, other};
    return tx.add_manifests(spec.image.id, list);
  });
  CHECK(added == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.manifests_of(spec.image.id); }).size() == 2);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(other.digest); }) == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(spec.image.id); }).content_size ==
        100 + 500 + 10 + 450);
  auto unknown = store->write([&](WriteTx& tx) {
    std::vector<ManifestRecord> list = {other};
    return tx.add_manifests(digest_of("config:none"), list);
  });
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::NotFound);
  must(store->check_integrity());
}

// ------------------------------------------------------------------------- tags

TEST_CASE("tx: set_tag creates, moves and re-tags; history records changes", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {});
  const auto b = make_image("b", {});
  must(put(*store, a));
  must(put(*store, b));

  // Created: no previous image.
  CHECK(must(tag(*store, kRepo, "musl", a.image.id, 100)) == std::nullopt);
  // Re-tagged to the same image: not a move, no history.
  CHECK(must(tag(*store, kRepo, "musl", a.image.id, 150)) == std::nullopt);
  // Moved: returns the previous image.
  CHECK(must(tag(*store, kRepo, "musl", b.image.id, 200)) ==
        std::optional<std::string>(a.image.id));

  CHECK(rd(*store, [](ReadTx& tx) { return tx.resolve_tag(kRepo, "musl"); }) ==
        std::optional<std::string>(b.image.id));
  CHECK(rd(*store, [](ReadTx& tx) { return tx.resolve_tag(kRepo, "nope"); }) == std::nullopt);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(a.image.id); }).last_tag_ns == 150);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(b.image.id); }).last_tag_ns == 200);

  const std::string removed =
      wr(*store, [](WriteTx& tx) { return tx.remove_tag(kRepo, "musl", 300); });
  CHECK(removed == b.image.id);

  const auto history = rd(*store, [](ReadTx& tx) { return tx.tag_history(kRepo, "musl", 10); });
  REQUIRE(history.size() == 3);  // newest first
  CHECK(history[0].old_image_id == std::optional<std::string>(b.image.id));
  CHECK(history[0].new_image_id == std::nullopt);
  CHECK(history[0].at_ns == 300);
  CHECK(history[1].old_image_id == std::optional<std::string>(a.image.id));
  CHECK(history[1].new_image_id == std::optional<std::string>(b.image.id));
  CHECK(history[1].at_ns == 200);
  CHECK(history[2].old_image_id == std::nullopt);
  CHECK(history[2].new_image_id == std::optional<std::string>(a.image.id));
  CHECK(history[2].at_ns == 100);
  CHECK(history[0].id > history[1].id);
  CHECK(history[0].repository == kRepo);
  CHECK(history[0].tag == "musl");
  CHECK(rd(*store, [](ReadTx& tx) { return tx.tag_history(kRepo, "musl", 1); }).size() == 1);
  CHECK(rd(*store, [](ReadTx& tx) { return tx.tag_history(kRepo, "other", 10); }).empty());
}

TEST_CASE("tx: set_tag and remove_tag errors", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {});
  must(put(*store, a));
  auto unknown = tag(*store, kRepo, "x", digest_of("config:none"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::NotFound);
  auto empty = tag(*store, kRepo, "", a.image.id);
  REQUIRE_FALSE(empty);
  CHECK(empty.error().code == Errc::InvalidArgument);
  auto missing = store->write([](WriteTx& tx) { return tx.remove_tag(kRepo, "x", 1); });
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == Errc::NotFound);
  CHECK(rd(*store, [](ReadTx& tx) { return tx.tag_history(kRepo, "x", 10); }).empty());
}

TEST_CASE("tx: tags_of, list_tags and repo digests", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {});
  const auto b = make_image("b", {});
  must(put(*store, a));
  must(put(*store, b));
  const std::string index = digest_of("manifest:index");
  wr(*store, [&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.set_tag(kRepo, "musl", a.image.id, 1));
    IMAGED_TRY(tx.set_tag(kRepo, "media", a.image.id, 2));
    IMAGED_TRY(tx.set_tag("127.0.0.1:5000/test/busybox", "media", a.image.id, 3));
    IMAGED_TRY(tx.set_tag("docker.io/library/alpine", "3", b.image.id, 4));
    CHECK(IMAGED_TRY(tx.add_repo_digest(kRepo, a.manifests[0].digest, a.image.id)));
    CHECK_FALSE(IMAGED_TRY(tx.add_repo_digest(kRepo, a.manifests[0].digest, a.image.id)));
    CHECK(IMAGED_TRY(tx.add_repo_digest(kRepo, index, a.image.id)));
    // The same index digest resolved for another platform: re-pointed.
    CHECK(IMAGED_TRY(tx.add_repo_digest(kRepo, index, b.image.id)));
    return {};
  });

  const auto tags_a = rd(*store, [&](ReadTx& tx) { return tx.tags_of(a.image.id); });
  REQUIRE(tags_a.size() == 3);
  CHECK(tags_a[0] == TagRecord{"127.0.0.1:5000/test/busybox", "media", a.image.id, 3});
  CHECK(tags_a[1] == TagRecord{kRepo, "media", a.image.id, 2});
  CHECK(tags_a[2] == TagRecord{kRepo, "musl", a.image.id, 1});
  // The names only, from the covering index: same order, tagged_ns left 0.
  const auto names_a = rd(*store, [&](ReadTx& tx) { return tx.tag_names_of(a.image.id); });
  REQUIRE(names_a.size() == 3);
  CHECK(names_a[0] == TagRecord{"127.0.0.1:5000/test/busybox", "media", a.image.id, 0});
  CHECK(names_a[2] == TagRecord{kRepo, "musl", a.image.id, 0});
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.tag_names_of(digest_of("nosuch")); }).empty());
  const auto all = rd(*store, [](ReadTx& tx) { return tx.list_tags(); });
  REQUIRE(all.size() == 4);
  CHECK(all[1].repository == "docker.io/library/alpine");

  CHECK(rd(*store, [&](ReadTx& tx) { return tx.repo_digests_of(a.image.id); }) ==
        std::vector<RepoDigestRecord>{{kRepo, a.manifests[0].digest, a.image.id}});
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.resolve_repo_digest(kRepo, index); }) ==
        std::optional<std::string>(b.image.id));
  CHECK(rd(*store, [](ReadTx& tx) { return tx.list_repo_digests(); }).size() == 2);

  wr(*store, [&](WriteTx& tx) { return tx.remove_repo_digest(kRepo, index); });
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.resolve_repo_digest(kRepo, index); }) ==
        std::nullopt);
  auto again = store->write([&](WriteTx& tx) { return tx.remove_repo_digest(kRepo, index); });
  REQUIRE_FALSE(again);
  CHECK(again.error().code == Errc::NotFound);
  auto bad =
      store->write([&](WriteTx& tx) { return tx.add_repo_digest(kRepo, "latest", a.image.id); });
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);
  auto unknown = store->write(
      [&](WriteTx& tx) { return tx.add_repo_digest(kRepo, index, digest_of("config:none")); });
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == Errc::NotFound);
}

// ------------------------------------------------------------------------- blobs

TEST_CASE("tx: blob refs count images sharing layers", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto l1 = make_layer("l1", 10);
  const auto l2 = make_layer("l2", 20);
  const auto l3 = make_layer("l3", 40);
  const auto a = make_image("a", {l1, l2});
  const auto b = make_image("b", {l2, l3});
  const auto c = make_image("c", {l2, l2});  // the same layer twice counts once
  for (const auto* spec : {&a, &b, &c}) must(put(*store, *spec));

  auto refs = [&](const std::string& d) {
    return rd(*store, [&](ReadTx& tx) { return tx.blob_refs(d); });
  };
  CHECK(refs(l1.digest) == 1);
  CHECK(refs(l2.digest) == 3);
  CHECK(refs(l3.digest) == 1);
  CHECK(refs(a.image.id) == 1);
  CHECK(refs(a.manifests[0].digest) == 1);
  CHECK(refs(digest_of("unknown")) == 0);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.is_blob_referenced(l2.digest); }));
  CHECK_FALSE(rd(*store, [&](ReadTx& tx) { return tx.is_blob_referenced(digest_of("x")); }));

  // 3 configs + 3 manifests + 3 layers.
  const auto referenced = rd(*store, [](ReadTx& tx) { return tx.referenced_blobs(); });
  CHECK(referenced ==
        sorted({a.image.id, b.image.id, c.image.id, a.manifests[0].digest, b.manifests[0].digest,
                c.manifests[0].digest, l1.digest, l2.digest, l3.digest}));
  const auto blobs = rd(*store, [](ReadTx& tx) { return tx.list_blobs(); });
  const auto l2_row = std::find_if(blobs.begin(), blobs.end(),
                                   [&](const BlobRecord& r) { return r.digest == l2.digest; });
  REQUIRE(l2_row != blobs.end());
  CHECK(*l2_row == BlobRecord{l2.digest, 20, 60, BlobKind::Layer, 3});

  const StoreUsage usage = rd(*store, [](ReadTx& tx) { return tx.usage(); });
  CHECK(usage.image_count == 3);
  CHECK(usage.blob_count == 9);
  CHECK(usage.layers_size == 10 + 20 + 40);
  CHECK(usage.layers_uncompressed_size == 3 * (10 + 20 + 40));
  CHECK(usage.content_size == 3 * 100 + 3 * 500 + 70);

  // Shared size: uncompressed bytes of layers with refs > 1, per position like Size.
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.shared_size(a.image.id); }) == 60);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.shared_size(c.image.id); }) == 120);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.shared_size(digest_of("none")); }) == 0);
  const auto shared = rd(*store, [](ReadTx& tx) { return tx.shared_sizes(); });
  CHECK(shared == std::unordered_map<std::string, int64_t>{
                      {a.image.id, 60}, {b.image.id, 60}, {c.image.id, 120}});
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(c.image.id); }).size == 120);
  must(store->check_integrity());
}

TEST_CASE("tx: unpacked layer sizes make Size, shared size and usage; unknown ones fall back",
          "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  LayerRecord old = make_layer("old", 10);  // unpacked size unknown: its 30 uncompressed count
  LayerRecord base = make_layer("base", 20);
  base.unpacked_size = 50;
  LayerRecord empty = make_layer("empty", 40);
  empty.unpacked_size = 0;
  const auto a = make_image("a", {old, base});
  const auto b = make_image("b", {base, empty});
  must(put(*store, a));
  must(put(*store, b));
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.layers_of(a.image.id); }) == a.layers);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(a.image.id); }).size == 30 + 50);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(b.image.id); }).size == 50);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.shared_size(a.image.id); }) == 50);
  CHECK(rd(*store, [](ReadTx& tx) { return tx.shared_sizes(); }) ==
        std::unordered_map<std::string, int64_t>{{a.image.id, 50}, {b.image.id, 50}});
  StoreUsage usage = rd(*store, [](ReadTx& tx) { return tx.usage(); });
  CHECK(usage.layers_uncompressed_size == 30 + 60 + 120);
  CHECK(usage.layers_diff_size == 30 + 50 + 0);

  // An image that knows the old layer's unpacked size fills it in for the blob (LayersSize);
  // the image recorded before keeps its Size.
  LayerRecord old_known = old;
  old_known.unpacked_size = 25;
  const auto c = make_image("c", {old_known});
  must(put(*store, c));
  usage = rd(*store, [](ReadTx& tx) { return tx.usage(); });
  CHECK(usage.layers_diff_size == 25 + 50 + 0);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(a.image.id); }).size == 80);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.get_image(c.image.id); }).size == 25);
  must(store->check_integrity());
}

TEST_CASE("tx: delete_image returns exactly the orphaned blobs", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto l1 = make_layer("l1", 10);
  const auto l2 = make_layer("l2", 20);
  const auto l3 = make_layer("l3", 40);
  const auto index = make_manifest("shared-index", 300, ManifestKind::Index);
  auto a = make_image("a", {l1, l2});
  auto b = make_image("b", {l2, l3, l3});
  a.manifests.push_back(index);  // both pulled through one multi-platform index
  b.manifests.push_back(index);
  must(put(*store, a));
  must(put(*store, b));

  const auto orphaned_b = wr(*store, [&](WriteTx& tx) { return tx.delete_image(b.image.id); });
  CHECK(orphaned_b == sorted({b.image.id, b.manifests[0].digest, l3.digest}));
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(l2.digest); }) == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(index.digest); }) == 1);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.layers_of(b.image.id); }).empty());
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.manifests_of(b.image.id); }).empty());
  must(store->check_integrity());

  const auto orphaned_a = wr(*store, [&](WriteTx& tx) { return tx.delete_image(a.image.id); });
  CHECK(orphaned_a ==
        sorted({a.image.id, a.manifests[0].digest, index.digest, l1.digest, l2.digest}));
  CHECK(rd(*store, [](ReadTx& tx) { return tx.list_blobs(); }).empty());
  CHECK(rd(*store, [](ReadTx& tx) { return tx.usage(); }) == StoreUsage{});
  must(store->check_integrity());
}

TEST_CASE("tx: delete_image refuses while names remain and for unknown ids", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {make_layer("l1", 10)});
  must(put(*store, a));
  must(tag(*store, kRepo, "musl", a.image.id));
  wr(*store,
     [&](WriteTx& tx) { return tx.add_repo_digest(kRepo, a.manifests[0].digest, a.image.id); });

  auto del = [&] { return store->write([&](WriteTx& tx) { return tx.delete_image(a.image.id); }); };
  auto tagged = del();
  REQUIRE_FALSE(tagged);
  CHECK(tagged.error().code == Errc::Conflict);
  CHECK_THAT(tagged.error().message, Catch::Contains("1 tag(s) and 1 repo digest(s)"));

  wr(*store, [](WriteTx& tx) { return tx.remove_tag(kRepo, "musl", 2); });
  auto digest_left = del();
  REQUIRE_FALSE(digest_left);
  CHECK(digest_left.error().code == Errc::Conflict);

  wr(*store, [&](WriteTx& tx) { return tx.remove_repo_digest(kRepo, a.manifests[0].digest); });
  CHECK(must(del()).size() == 3);
  auto gone = del();
  REQUIRE_FALSE(gone);
  CHECK(gone.error().code == Errc::NotFound);
}

TEST_CASE("tx: untag, delete and re-pull in one transaction", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {make_layer("l1", 10)});
  must(put(*store, a));
  must(tag(*store, kRepo, "musl", a.image.id));
  // Deleted and added back before commit: the layer survives, nothing is orphaned at the end.
  const auto orphaned = wr(*store, [&](WriteTx& tx) -> Result<std::vector<std::string>> {
    IMAGED_TRY(tx.remove_tag(kRepo, "musl", 2));
    auto gone = IMAGED_TRY(tx.delete_image(a.image.id));
    IMAGED_TRY(tx.put_image(a.image, a.layers, a.manifests));
    IMAGED_TRY(tx.set_tag(kRepo, "musl", a.image.id, 3));
    return gone;
  });
  CHECK(orphaned.size() == 3);  // what the delete alone freed; the caller re-checks refs
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(a.layers[0].digest); }) == 1);
  must(store->check_integrity());
}

// ------------------------------------------------------------------------- events

TEST_CASE("tx: events append, query by time and id, prune", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  std::vector<int64_t> ids;
  wr(*store, [&](WriteTx& tx) -> Status {
    for (int64_t t : {300, 100, 200, 400}) {
      ids.push_back(IMAGED_TRY(
          tx.append_event(EventRecord{0, t, "image", "tag", "sha256:x",
                                      R"({"name":"busybox:)" + std::to_string(t) + R"("})"})));
    }
    return {};
  });
  CHECK(std::is_sorted(ids.begin(), ids.end()));

  const auto range = rd(*store, [](ReadTx& tx) { return tx.events(100, 300, 10); });
  REQUIRE(range.size() == 3);
  CHECK(range[0].time_ns == 100);  // by time, not insertion
  CHECK(range[1].time_ns == 200);
  CHECK(range[2].time_ns == 300);
  CHECK(range[2] ==
        EventRecord{ids[0], 300, "image", "tag", "sha256:x", R"({"name":"busybox:300"})"});
  CHECK(rd(*store, [](ReadTx& tx) { return tx.events(0, 1000, 2); }).size() == 2);
  const auto after = rd(*store, [&](ReadTx& tx) { return tx.events_after(ids[1], 10); });
  REQUIRE(after.size() == 2);
  CHECK(after[0].id == ids[2]);

  CHECK(wr(*store, [](WriteTx& tx) { return tx.prune_events(250); }) == 2);
  const auto left = rd(*store, [](ReadTx& tx) { return tx.events(0, 1000, 10); });
  REQUIRE(left.size() == 2);
  CHECK(left[0].time_ns == 300);
  // Ids keep increasing after pruning.
  const int64_t next = wr(*store, [](WriteTx& tx) {
    return tx.append_event(EventRecord{0, 500, "image", "delete", "sha256:x", "{}"});
  });
  CHECK(next > ids.back());
}

// ------------------------------------------------------------------------- integrity

TEST_CASE("tx: check_integrity detects a corrupted refs count; repair fixes it", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {make_layer("l1", 10)});
  must(put(*store, a));
  {
    Connection conn = raw(dir);
    Statement st = must(conn.prepare("UPDATE blobs SET refs = 5 WHERE digest = ?1"));
    st.bind(1, a.layers[0].digest);
    must(st.run());
  }
  auto broken = store->check_integrity();
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == Errc::DataLoss);
  CHECK_THAT(broken.error().message, Catch::Contains(a.layers[0].digest));
  CHECK_THAT(broken.error().message, Catch::Contains("refs 5 but 1 image(s)"));

  const RefRepair repair = must(store->repair_blob_refs());
  CHECK(repair.refs_fixed == 1);
  CHECK(repair.rows_added == 0);
  CHECK(repair.orphaned.empty());
  must(store->check_integrity());
}

TEST_CASE("tx: delete_image with a too-low refs count fails and changes nothing", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {make_layer("shared", 10)});
  const auto b = make_image("b", {make_layer("shared", 10)});
  must(put(*store, a));
  must(put(*store, b));
  {
    Connection conn = raw(dir);
    Statement st = must(conn.prepare("UPDATE blobs SET refs = 1 WHERE digest = ?1"));
    st.bind(1, a.layers[0].digest);
    must(st.run());
  }
  // Dropping to 0 while b still lists the layer: the foreign key refuses, nothing is orphaned.
  auto r = store->write([&](WriteTx& tx) { return tx.delete_image(a.image.id); });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::DataLoss);
  CHECK(rd(*store, [](ReadTx& tx) { return tx.image_count(); }) == 2);
  must(store->repair_blob_refs());
  CHECK(must(store->write([&](WriteTx& tx) { return tx.delete_image(a.image.id); })).size() == 2);
  must(store->check_integrity());
}

TEST_CASE("tx: check_integrity detects dangling references", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto a = make_image("a", {make_layer("l1", 10)});
  must(put(*store, a));
  const std::string ghost = digest_of("config:ghost");
  {
    // Something writing with foreign keys off: a layer's blobs row vanishes and a tag points
    // at an image that does not exist.
    Connection conn = raw(dir);
    must(conn.exec("PRAGMA foreign_keys = OFF"));
    Statement blob = must(conn.prepare("DELETE FROM blobs WHERE digest = ?1"));
    blob.bind(1, a.layers[0].digest);
    must(blob.run());
    Statement tag_row = must(conn.prepare("INSERT INTO tags VALUES (?1, 'ghost', ?2, 1)"));
    tag_row.bind_all(kRepo, ghost);
    must(tag_row.run());
  }
  auto broken = store->check_integrity();
  REQUIRE_FALSE(broken);
  CHECK(broken.error().code == Errc::DataLoss);
  CHECK_THAT(broken.error().message,
             Catch::Contains("1 row(s) of image_layers reference missing rows of blobs"));
  CHECK_THAT(broken.error().message,
             Catch::Contains("1 row(s) of tags reference missing rows of images"));
  CHECK_THAT(broken.error().message,
             Catch::Contains("blob " + a.layers[0].digest + " is referenced but has no blobs row"));

  // The refs part is repairable: the missing row comes back with its size.
  const RefRepair repair = must(store->repair_blob_refs());
  CHECK(repair.rows_added == 1);
  CHECK(repair.refs_fixed == 0);
  CHECK(repair.orphaned.empty());
  const auto blobs = rd(*store, [](ReadTx& tx) { return tx.list_blobs(); });
  CHECK(std::count(blobs.begin(), blobs.end(),
                   BlobRecord{a.layers[0].digest, 10, 30, BlobKind::Layer, 1}) == 1);
  // The dangling tag is not the refs repair's business: still reported.
  auto still = store->check_integrity();
  REQUIRE_FALSE(still);
  CHECK_THAT(still.error().message, Catch::Contains("of tags reference missing rows of images"));
  {
    Connection conn = raw(dir);
    must(conn.exec("DELETE FROM tags"));
  }
  must(store->check_integrity());
}

TEST_CASE("tx: repair removes blobs rows nothing references", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  must(put(*store, make_image("a", {make_layer("l1", 10)})));
  const std::string stray = digest_of("stray");
  {
    Connection conn = raw(dir);
    Statement st =
        must(conn.prepare("INSERT INTO blobs (digest, size, uncompressed_size, kind, refs) VALUES "
                          "(?1, 5, 5, 'layer', 2)"));
    st.bind(1, stray);
    must(st.run());
  }
  auto broken = store->check_integrity();
  REQUIRE_FALSE(broken);
  CHECK_THAT(broken.error().message, Catch::Contains("blob " + stray + " has refs 2 but 0"));
  const RefRepair repair = must(store->repair_blob_refs());
  CHECK(repair.refs_fixed == 1);
  CHECK(repair.orphaned == std::vector<std::string>{stray});
  must(store->check_integrity());
}

// ------------------------------------------------------------------------- scale

TEST_CASE("tx: 10,000 tags in one transaction list correctly", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  constexpr int kImages = 100;
  constexpr int kTags = 10'000;
  std::vector<std::string> ids;
  wr(*store, [&](WriteTx& tx) -> Status {
    for (int i = 0; i < kImages; ++i) {
      auto spec =
          make_image("img" + std::to_string(i),
                     {make_layer("base", 1000), make_layer("own" + std::to_string(i), 10)}, i);
      IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
      ids.push_back(spec.image.id);
    }
    return {};
  });
  // repository r<k % 100>, tag t<k>, image k % kImages.
  auto repo_of = [](int k) { return "docker.io/library/r" + std::to_string(k % 100); };
  wr(*store, [&](WriteTx& tx) -> Status {
    for (int k = 0; k < kTags; ++k) {
      IMAGED_TRY(tx.set_tag(repo_of(k), "t" + std::to_string(k), ids[k % kImages], k));
    }
    return {};
  });

  const auto tags = rd(*store, [](ReadTx& tx) { return tx.list_tags(); });
  const auto images = rd(*store, [](ReadTx& tx) { return tx.list_images(); });
  REQUIRE(tags.size() == static_cast<size_t>(kTags));
  REQUIRE(images.size() == static_cast<size_t>(kImages));
  CHECK(std::is_sorted(tags.begin(), tags.end(), [](const TagRecord& x, const TagRecord& y) {
    return std::tie(x.repository, x.tag) < std::tie(y.repository, y.tag);
  }));
  // Join tags to images in memory, as the image list does.
  std::unordered_map<std::string, const ImageRecord*> by_id;
  for (const auto& image : images) by_id.emplace(image.id, &image);
  std::unordered_map<std::string, int> tags_per_image;
  std::set<std::pair<std::string, std::string>> names;
  for (const auto& t : tags) {
    const int k = std::stoi(t.tag.substr(1));
    CHECK(t.repository == repo_of(k));
    CHECK(t.image_id == ids[k % kImages]);
    CHECK(t.tagged_ns == k);
    REQUIRE(by_id.count(t.image_id) == 1);
    ++tags_per_image[t.image_id];
    names.emplace(t.repository, t.tag);
  }
  CHECK(names.size() == static_cast<size_t>(kTags));
  for (const auto& id : ids) CHECK(tags_per_image[id] == kTags / kImages);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.tags_of(ids[7]); }).size() ==
        static_cast<size_t>(kTags / kImages));
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.blob_refs(make_layer("base", 1000).digest); }) ==
        kImages);
  CHECK(rd(*store, [&](ReadTx& tx) { return tx.shared_size(ids[0]); }) == 3000);
  must(store->check_integrity());
}

TEST_CASE("tx: names_version counts every change of images, tags and repo digests", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  auto version = [&] { return rd(*store, [](ReadTx& tx) { return tx.names_version(); }); };
  int64_t last = version();
  auto changed = [&] {
    const int64_t now = version();
    const bool moved = now > last;
    last = now;
    return moved;
  };
  const auto a = make_image("a", {make_layer("l1", 10)});
  must(put(*store, a));
  CHECK(changed());
  wr(*store, [&](WriteTx& tx) { return tx.set_tag(kRepo, "musl", a.image.id, 1); });
  CHECK(changed());
  wr(*store,
     [&](WriteTx& tx) { return tx.add_repo_digest(kRepo, a.manifests[0].digest, a.image.id); });
  CHECK(changed());
  // Reads and writes elsewhere (events, blobs only) leave it alone.
  CHECK(rd(*store, [](ReadTx& tx) { return tx.list_tags(); }).size() == 1);
  wr(*store, [&](WriteTx& tx) {
    return tx.append_event(EventRecord{0, 1, "image", "pull", "x", "{}"});
  });
  CHECK_FALSE(changed());
  wr(*store, [&](WriteTx& tx) { return tx.remove_repo_digest(kRepo, a.manifests[0].digest); });
  CHECK(changed());
  wr(*store, [&](WriteTx& tx) { return tx.remove_tag(kRepo, "musl", 2); });
  CHECK(changed());
  wr(*store, [&](WriteTx& tx) { return tx.delete_image(a.image.id); });
  CHECK(changed());
  // A transaction that rolls back leaves no trace.
  auto failed = store->write([&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.put_image(a.image, a.layers, a.manifests));
    return imaged::fail(Errc::Canceled, "no");
  });
  CHECK_FALSE(failed);
  CHECK_FALSE(changed());
}
