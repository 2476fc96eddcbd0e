#include "common/metadata/metadata_store.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/common/metadata/metadata_test_util.h"

using imaged::Errc;
using imaged::Result;
using imaged::Status;
using namespace imaged::metadata;
using namespace imaged::metadata::testing;
using namespace std::chrono_literals;

namespace {

constexpr auto kDeadline = 20s;  // generous: only hit when something is broken

Result<int64_t> count_images(MetadataStore& store) {
  return store.read([](ReadTx& tx) { return tx.image_count(); });
}

std::filesystem::path marker_of(const TempDir& dir) {
  return dir.db().string() + std::string(kUnsyncedSuffix);
}

// What a power loss may leave of a file whose writes were never synced: its first `keep` bytes,
// then zeros up to its old size.
void tear(const std::filesystem::path& file, std::streamoff keep) {
  const auto size = static_cast<std::streamoff>(std::filesystem::file_size(file));
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(keep);
  f << std::string(static_cast<size_t>(size - keep), '\0');
}

void overwrite(const std::filesystem::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace

TEST_CASE("store: write commits when the callback returns a value", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  CHECK(must(put(*store, spec)));
  CHECK(must(count_images(*store)) == 1);
  // Also through the explicit std::function form.
  std::function<Result<int64_t>(WriteTx&)> fn = [&](WriteTx& tx) -> Result<int64_t> {
    IMAGED_TRY(tx.set_tag("docker.io/library/a", "latest", spec.image.id, 1));
    return tx.image_count();
  };
  CHECK(must(store->write<int64_t>(fn)) == 1);
  std::function<Result<std::vector<TagRecord>>(ReadTx&)> list = [](ReadTx& tx) {
    return tx.list_tags();
  };
  CHECK(must(store->read<std::vector<TagRecord>>(list)).size() == 1);
}

TEST_CASE("store: write rolls back everything when the callback fails", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  auto result = store->write([&](WriteTx& tx) -> Result<int> {
    IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
    IMAGED_TRY(tx.set_tag("docker.io/library/a", "latest", spec.image.id, 1));
    return imaged::fail(Errc::Canceled, "client went away");
  });
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::Canceled);
  CHECK(result.error().message == "client went away");
  CHECK(must(count_images(*store)) == 0);
  CHECK(must(store->read([](ReadTx& tx) { return tx.list_blobs(); })).empty());
  CHECK(must(store->read([](ReadTx& tx) { return tx.list_tags(); })).empty());
  // The writer is usable afterwards.
  CHECK(must(put(*store, spec)));
}

TEST_CASE("store: write rolls back when the callback throws", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  auto result = store->write([&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
    throw std::runtime_error("boom");
  });
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::Internal);
  CHECK_THAT(result.error().message, Catch::Contains("boom"));
  CHECK(must(count_images(*store)) == 0);
  CHECK(must(store->read([](ReadTx& tx) { return tx.list_blobs(); })).empty());
  // A throwing read is converted the same way.
  auto read = store->read([](ReadTx&) -> Result<int> { throw std::logic_error("bad read"); });
  REQUIRE_FALSE(read);
  CHECK_THAT(read.error().message, Catch::Contains("bad read"));
  CHECK(must(put(*store, spec)));
}

TEST_CASE("store: a failed method inside a write can be handled and the rest commits",
          "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  must(store->write([&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
    auto missing = tx.set_tag("docker.io/library/a", "x", digest_of("config:nope"), 1);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == Errc::NotFound);
    // A put_image that fails half-way (a blob with a size contradicting the recorded one)
    // leaves nothing of itself behind.
    auto clash = make_image("b", {make_layer("l2", 5), make_layer("l1", 11)});
    auto bad = tx.put_image(clash.image, clash.layers, clash.manifests);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == Errc::InvalidArgument);
    CHECK(must(tx.blob_refs(make_layer("l2", 5).digest)) == 0);
    return {};
  }));
  CHECK(must(count_images(*store)) == 1);
  must(store->check_integrity());
}

TEST_CASE("store: a nested write on one thread is refused, not deadlocked", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  auto result = store->write([&](WriteTx&) -> Result<int> {
    auto inner = store->write([](WriteTx& tx) { return tx.image_count(); });
    REQUIRE_FALSE(inner);
    CHECK(inner.error().code == Errc::FailedPrecondition);
    return 1;
  });
  CHECK(must(std::move(result)) == 1);
}

TEST_CASE("store: reads see only committed data", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  must(store->write([&](WriteTx& tx) -> Status {
    IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
    // The write's own transaction sees its changes...
    CHECK(must(tx.image_count()) == 1);
    // ...a read (another connection) does not, until commit.
    CHECK(must(count_images(*store)) == 0);
    return {};
  }));
  CHECK(must(count_images(*store)) == 1);
}

TEST_CASE("store: readers proceed while a write transaction is open", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  must(put(*store, make_image("base", {make_layer("l0", 1)})));

  std::promise<void> written;
  std::promise<void> readers_done;
  std::atomic<bool> write_ok{false};  // Catch2 assertions are not thread-safe: report back
  auto readers_done_future = readers_done.get_future();
  std::thread writer([&] {
    auto st = store->write([&](WriteTx& tx) -> Status {
      IMAGED_TRY(tx.put_image(spec.image, spec.layers, spec.manifests));
      IMAGED_TRY(tx.set_tag("docker.io/library/a", "latest", spec.image.id, 1));
      written.set_value();
      // Hold the write transaction open until every reader has finished.
      if (readers_done_future.wait_for(kDeadline) != std::future_status::ready) {
        return imaged::fail(Errc::DeadlineExceeded, "readers never finished");
      }
      return {};
    });
    write_ok = st.has_value();
  });
  REQUIRE(written.get_future().wait_for(kDeadline) == std::future_status::ready);

  std::atomic<int> ok{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 6; ++i) {  // more than max_idle_readers: extra connections are opened
    readers.emplace_back([&] {
      auto r = store->read([&](ReadTx& tx) -> Result<bool> {
        const auto count = IMAGED_TRY(tx.image_count());
        const auto tag = IMAGED_TRY(tx.resolve_tag("docker.io/library/a", "latest"));
        return count == 1 && !tag.has_value();
      });
      if (r && *r) ++ok;
    });
  }
  for (auto& t : readers) t.join();
  readers_done.set_value();
  writer.join();
  CHECK(write_ok.load());
  CHECK(ok.load() == 6);
  CHECK(must(count_images(*store)) == 2);
}

TEST_CASE("store: a read transaction is one snapshot while writes commit", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  must(put(*store, make_image("a", {make_layer("l1", 10)})));
  auto result = store->read([&](ReadTx& tx) -> Result<bool> {
    const auto before = IMAGED_TRY(tx.image_count());
    // Another thread commits a write while this snapshot is open (WAL allows it).
    auto committed = std::async(
        std::launch::async, [&] { return put(*store, make_image("b", {make_layer("l2", 10)})); });
    REQUIRE(committed.wait_for(kDeadline) == std::future_status::ready);
    REQUIRE(must(committed.get()));
    const auto after = IMAGED_TRY(tx.image_count());
    return before == 1 && after == 1;
  });
  CHECK(must(std::move(result)));
  CHECK(must(count_images(*store)) == 2);
}

TEST_CASE("store: many threads writing and reading keep the store consistent", "[metadata]") {
  TempDir dir;
  MetadataStoreOptions options;
  options.max_idle_readers = 2;
  auto store = open_store(dir, options);
  const auto spec = make_image("a", {make_layer("l1", 10)});
  must(put(*store, spec));

  constexpr int kWriters = 4;
  constexpr int kTagsPerWriter = 50;
  std::atomic<bool> stop{false};
  std::atomic<int> inconsistent{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < kTagsPerWriter; ++i) {
        auto r = tag(*store, "docker.io/w" + std::to_string(w) + "/x", "t" + std::to_string(i),
                     spec.image.id, i);
        if (!r) ++failures;
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        // Every committed tag creation wrote one history row in the same transaction.
        auto res = store->read([](ReadTx& tx) -> Result<bool> {
          const auto tags = IMAGED_TRY(tx.list_tags());
          int64_t history = 0;
          for (const auto& t : tags) {
            history +=
                static_cast<int64_t>(IMAGED_TRY(tx.tag_history(t.repository, t.tag, 10)).size());
          }
          return history == static_cast<int64_t>(tags.size());
        });
        if (!res)
          ++failures;
        else if (!*res)
          ++inconsistent;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  stop = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();
  CHECK(failures.load() == 0);
  CHECK(inconsistent.load() == 0);
  CHECK(must(store->read([](ReadTx& tx) { return tx.list_tags(); })).size() ==
        kWriters * kTagsPerWriter);
}

TEST_CASE("store: check_integrity and repair_blob_refs on a healthy store", "[metadata]") {
  TempDir dir;
  auto store = open_store(dir);
  must(put(*store, make_image("a", {make_layer("l1", 10)})));
  must(store->check_integrity());
  const RefRepair repair = must(store->repair_blob_refs());
  CHECK(repair == RefRepair{});
}

TEST_CASE("store: a new database is marked unsynced until its first write", "[metadata]") {
  TempDir dir;
  {
    auto store = open_store(dir);
    CHECK(std::filesystem::exists(marker_of(dir)));
    CHECK(must(count_images(*store)) == 0);  // reads do not sync
    CHECK(std::filesystem::exists(marker_of(dir)));
    must(put(*store, make_image("a", {make_layer("l1", 10)})));
    CHECK_FALSE(std::filesystem::exists(marker_of(dir)));
  }
  auto store = open_store(dir);
  CHECK_FALSE(std::filesystem::exists(marker_of(dir)));
  CHECK_FALSE(store->set_aside());
  CHECK(must(count_images(*store)) == 1);
}

TEST_CASE("store: an unreadable never-written database is set aside and created again",
          "[metadata]") {
  TempDir dir;
  (void)open_store(dir);
  REQUIRE(std::filesystem::exists(marker_of(dir)));
  bool set_aside = true;
  SECTION("torn: the schema pages lost") { tear(dir.db(), 4096); }
  SECTION("torn: everything lost but the size") { tear(dir.db(), 0); }
  SECTION("garbage") { overwrite(dir.db(), std::string(8192, 'x')); }
  SECTION("empty: migrated in place") {
    overwrite(dir.db(), "");
    set_aside = false;
  }

  auto store = open_store(dir);
  must(store->check_integrity());
  CHECK(must(count_images(*store)) == 0);
  REQUIRE(store->set_aside().has_value() == set_aside);
  if (set_aside) {
    CHECK(std::filesystem::exists(*store->set_aside()));
    CHECK(store->set_aside()->parent_path() == dir.path());
  }
  must(put(*store, make_image("a", {make_layer("l1", 10)})));
  CHECK(must(count_images(*store)) == 1);
  CHECK_FALSE(std::filesystem::exists(marker_of(dir)));
}

TEST_CASE("store: an unreadable database that was written is refused, not replaced", "[metadata]") {
  TempDir dir;
  {
    auto store = open_store(dir);
    must(put(*store, make_image("a", {make_layer("l1", 10)})));
  }
  overwrite(dir.db(), std::string(8192, 'x'));
  auto store = MetadataStore::open(dir.db());
  REQUIRE_FALSE(store);
  CHECK(store.error().code == Errc::DataLoss);
  CHECK(std::filesystem::file_size(dir.db()) == 8192);  // left as it was
}
