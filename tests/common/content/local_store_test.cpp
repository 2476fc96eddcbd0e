#include "common/content/local_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <set>
#include <string>

#include "tests/common/content/store_conformance.h"
#include "tests/support/temp_dir.h"

namespace {

using imaged::Digest;
using imaged::Errc;
using imaged::content::Clock;
using imaged::content::LocalStore;
using imaged::content::LocalStoreOptions;
using imaged::content::Store;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::unique_ptr<Store> open_local_store(const fs::path& root) {
  auto store = LocalStore::open(root);
  if (!store) FAIL("LocalStore::open: " << store.error().message);
  return std::move(*store);
}

std::unique_ptr<LocalStore> open_local(const fs::path& root, LocalStoreOptions options = {}) {
  auto store = LocalStore::open(root, std::move(options));
  if (!store) FAIL("LocalStore::open: " << store.error().message);
  return std::move(*store);
}

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<Clock::time_point> now =
      std::make_shared<Clock::time_point>(Clock::time_point(std::chrono::hours(24 * 365 * 50)));
  std::function<Clock::time_point()> fn() const {
    return [now = now] { return *now; };
  }
  void advance(Clock::duration d) { *now += d; }
  LocalStoreOptions options() const {
    LocalStoreOptions options;
    options.clock = fn();
    return options;
  }
};

std::string file_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

IMAGED_CONTENT_STORE_CONFORMANCE("local store", open_local_store)

TEST_CASE("local store: layout on disk", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  CHECK(fs::is_directory(dir / "store/blobs/sha256"));
  CHECK(fs::is_directory(dir / "store/ingest"));

  auto writer = IMAGED_REQUIRE_VALUE(store->writer("layer-sha256:abc", 11));
  IMAGED_REQUIRE_OK(writer->write("hello world"));
  writer->close();
  const fs::path ingest = dir / "store/ingest" / std::string(Digest::of("layer-sha256:abc").hex());
  CHECK(file_text(ingest / "ref") == "layer-sha256:abc");
  CHECK(file_text(ingest / "total") == "11");
  CHECK(file_text(ingest / "data") == "hello world");

  writer = IMAGED_REQUIRE_VALUE(store->writer("layer-sha256:abc", 11));
  IMAGED_REQUIRE_OK(writer->commit(11, Digest::of("hello world")));
  const fs::path blob = store->path_of(Digest::of("hello world"));
  CHECK(blob == dir.path() / "store/blobs/sha256" / std::string(Digest::of("hello world").hex()));
  CHECK(file_text(blob) == "hello world");
  struct stat st {};
  REQUIRE(::stat(blob.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0444);
  CHECK(fs::is_empty(dir / "store/ingest"));
}

TEST_CASE("local store: commit time comes from the store's clock", "[content]") {
  imaged::testing::TempDir dir("content-local");
  FakeClock clock;
  auto store = open_local(dir / "store", clock.options());
  IMAGED_REQUIRE_OK(imaged::content::write_blob(*store, "c", "x", Digest::of("x")));
  CHECK(IMAGED_REQUIRE_VALUE(store->info(Digest::of("x"))).committed_at == *clock.now);
}

TEST_CASE("local store: remove_stale_ingests honours the TTL and skips held ingests", "[content]") {
  imaged::testing::TempDir dir("content-local");
  FakeClock clock;
  auto store = open_local(dir / "store", clock.options());

  auto old_ingest = IMAGED_REQUIRE_VALUE(store->writer("old", -1));
  IMAGED_REQUIRE_OK(old_ingest->write("old bytes"));
  old_ingest->close();
  auto held = IMAGED_REQUIRE_VALUE(store->writer("held", -1));  // open throughout
  IMAGED_REQUIRE_OK(held->write("held bytes"));
  clock.advance(2h);
  auto fresh = IMAGED_REQUIRE_VALUE(store->writer("fresh", -1));
  IMAGED_REQUIRE_OK(fresh->write("fresh bytes"));
  fresh->close();

  CHECK(IMAGED_REQUIRE_VALUE(store->remove_stale_ingests(3h)) == 0);
  CHECK(IMAGED_REQUIRE_VALUE(store->ingests()).size() == 3);

  // "old" is 2h old, "fresh" 0h; "held" is old too but a writer holds it.
  CHECK(IMAGED_REQUIRE_VALUE(store->remove_stale_ingests(1h)) == 1);
  std::set<std::string> refs;
  for (auto& s : IMAGED_REQUIRE_VALUE(store->ingests())) refs.insert(s.ref);
  CHECK(refs == std::set<std::string>{"held", "fresh"});

  // Closing "held" stamps it now; an hour later only "fresh" (2h old by then) is stale.
  clock.advance(1h);
  held->close();
  clock.advance(1h);
  CHECK(IMAGED_REQUIRE_VALUE(store->remove_stale_ingests(90min)) == 1);
  refs.clear();
  for (auto& s : IMAGED_REQUIRE_VALUE(store->ingests())) refs.insert(s.ref);
  CHECK(refs == std::set<std::string>{"held"});
  auto resumed = IMAGED_REQUIRE_VALUE(store->writer("held", -1));
  CHECK(resumed->offset() == 10);
}

TEST_CASE("local store: the sweep removes temporary ingest dirs left by a crash", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  const fs::path tmp = dir / "store/ingest/.new-deadbeef-1-0";
  fs::create_directories(tmp);
  std::ofstream(tmp / "ref") << "half-made";
  CHECK(IMAGED_REQUIRE_VALUE(store->ingests()).empty());  // never listed
  CHECK(IMAGED_REQUIRE_VALUE(store->remove_stale_ingests(1h)) == 0);
  CHECK(fs::exists(tmp));
  CHECK(IMAGED_REQUIRE_VALUE(store->remove_stale_ingests(0s)) == 1);
  CHECK(!fs::exists(tmp));
}

TEST_CASE("local store: a ref held by another store instance (process) is Unavailable",
          "[content]") {
  imaged::testing::TempDir dir("content-local");
  // Two instances share no lock table, like two processes: only the flock protects the ref.
  auto first = open_local(dir / "store");
  auto second = open_local(dir / "store");
  auto writer = IMAGED_REQUIRE_VALUE(first->writer("shared", -1));
  IMAGED_REQUIRE_OK(writer->write("abc"));
  IMAGED_REQUIRE_ERRC(second->writer("shared", -1), Errc::Unavailable);
  IMAGED_REQUIRE_ERRC(second->abort("shared"), Errc::Unavailable);
  CHECK(IMAGED_REQUIRE_VALUE(second->remove_stale_ingests(0s)) == 0);
  writer->close();
  auto taken = IMAGED_REQUIRE_VALUE(second->writer("shared", -1));
  CHECK(taken->offset() == 3);
  IMAGED_REQUIRE_OK(taken->commit(3, Digest::of("abc")));
  CHECK(IMAGED_REQUIRE_VALUE(first->info(Digest::of("abc"))).size == 3);
}

TEST_CASE("local store: an ingest with torn metadata restarts from zero", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("torn", -1));
  IMAGED_REQUIRE_OK(writer->write("stale bytes"));
  writer->close();
  fs::remove(dir / "store/ingest" / std::string(Digest::of("torn").hex()) / "ref");
  CHECK(IMAGED_REQUIRE_VALUE(store->ingests()).empty());
  writer = IMAGED_REQUIRE_VALUE(store->writer("torn", -1));
  CHECK(writer->offset() == 0);
  IMAGED_REQUIRE_OK(writer->write("new"));
  IMAGED_REQUIRE_OK(writer->commit(3, Digest::of("new")));
}

TEST_CASE("local store: resuming with a different expected total restarts", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("sized", 10));
  IMAGED_REQUIRE_OK(writer->write("12345"));
  writer->close();
  writer = IMAGED_REQUIRE_VALUE(store->writer("sized", -1));  // unknown: keep the recorded one
  CHECK(writer->offset() == 5);
  IMAGED_REQUIRE_ERRC(writer->write("123456"), Errc::FailedPrecondition);
  writer->close();
  writer = IMAGED_REQUIRE_VALUE(store->writer("sized", 20));
  CHECK(writer->offset() == 0);
  auto statuses = IMAGED_REQUIRE_VALUE(store->ingests());
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].total == 20);
}

TEST_CASE("local store: an ingest left read-only by a crashed commit resumes", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("crashed-commit", -1));
  IMAGED_REQUIRE_OK(writer->write("abc"));
  writer->close();
  const fs::path data =
      dir / "store/ingest" / std::string(Digest::of("crashed-commit").hex()) / "data";
  REQUIRE(::chmod(data.c_str(), 0444) == 0);
  writer = IMAGED_REQUIRE_VALUE(store->writer("crashed-commit", -1));
  CHECK(writer->offset() == 3);
  IMAGED_REQUIRE_OK(writer->write("def"));
  IMAGED_REQUIRE_OK(writer->commit(6, Digest::of("abcdef")));
}

TEST_CASE("local store: an ingest whose data a crashed commit already moved resumes from zero",
          "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  IMAGED_REQUIRE_OK(imaged::content::write_blob(*store, "first", "abc", Digest::of("abc")));
  // What a crash between the rename and the cleanup leaves: the ingest without its data.
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("moved", 3));
  writer->close();
  fs::remove(dir / "store/ingest" / std::string(Digest::of("moved").hex()) / "data");
  auto statuses = IMAGED_REQUIRE_VALUE(store->ingests());
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].offset == 0);
  writer = IMAGED_REQUIRE_VALUE(store->writer("moved", 3));
  CHECK(writer->offset() == 0);
  IMAGED_REQUIRE_OK(writer->write("abc"));
  IMAGED_REQUIRE_ERRC(writer->commit(3, Digest::of("abc")), Errc::AlreadyExists);
  CHECK(IMAGED_REQUIRE_VALUE(store->ingests()).empty());
}

TEST_CASE("local store: writers and readers outlive the store", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  IMAGED_REQUIRE_OK(imaged::content::write_blob(*store, "r", "read me", Digest::of("read me")));
  auto reader = IMAGED_REQUIRE_VALUE(store->open(Digest::of("read me")));
  auto writer = IMAGED_REQUIRE_VALUE(store->writer("w", -1));
  store.reset();
  IMAGED_REQUIRE_OK(writer->write("late"));
  IMAGED_REQUIRE_OK(writer->commit(4, Digest::of("late")));
  std::string buf(7, '\0');
  CHECK(IMAGED_REQUIRE_VALUE(
            reader->read_at(std::as_writable_bytes(std::span(buf.data(), 7)), 0)) == 7);
  CHECK(buf == "read me");
  store = open_local(dir / "store");
  CHECK(IMAGED_REQUIRE_VALUE(store->info(Digest::of("late"))).size == 4);
}

TEST_CASE("local store: blobs with foreign names are not walked", "[content]") {
  imaged::testing::TempDir dir("content-local");
  auto store = open_local(dir / "store");
  std::ofstream(dir / "store/blobs/sha256/not-a-digest") << "x";
  fs::create_directories(dir / "store/blobs/sha256" / std::string(64, 'a'));  // not a file
  int count = 0;
  IMAGED_REQUIRE_OK(store->walk([&](const imaged::content::Info&) { ++count; }));
  CHECK(count == 0);
}

TEST_CASE("local store: opening on a regular file fails cleanly", "[content]") {
  imaged::testing::TempDir dir("content-local");
  std::ofstream(dir / "file") << "x";
  auto store = LocalStore::open(dir / "file");
  REQUIRE(!store);
  CHECK(!store.error().message.empty());
}
