// The start-up check (store_check.h), and the crash test of the whole store: a process writing
// blobs and rows as pulls and deletes do is SIGKILLed at many random points; after each kill the
// store opens, passes its check, and holds no half-written blob and no row without its blob.
#include "common/images/store_check.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/content/local_store.h"
#include "common/images/blob_sweeper.h"
#include "common/metadata/metadata_store.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace imaged;
using namespace std::chrono_literals;

struct Stores {
  std::unique_ptr<content::LocalStore> content;
  std::unique_ptr<metadata::MetadataStore> metadata;
  std::unique_ptr<images::BlobSweeper> sweeper;

  explicit Stores(const std::filesystem::path& root) {
    auto c = content::LocalStore::open(root);
    if (!c) throw std::runtime_error("content: " + c.error().message);
    auto m = metadata::MetadataStore::open(root / metadata::kMetaDbName);
    if (!m) throw std::runtime_error("metadata: " + m.error().message);
    content = std::move(*c);
    metadata = std::move(*m);
    sweeper = std::make_unique<images::BlobSweeper>(*content, *metadata);
  }
};

// Deterministic layer bytes from a small pool, so images share layers.
std::string layer_bytes(int n) {
  std::mt19937_64 rng(n);
  std::string bytes(4096 + (n % 7) * 30000, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What one "pull" leaves: committed blobs first, then one metadata transaction.
Status pull_once(Stores& s, std::mt19937& rng, int iteration) {
  std::vector<metadata::LayerRecord> layers;
  for (int i = 0, n = 1 + rng() % 3; i < n; ++i) {
    std::string bytes = layer_bytes(rng() % 8);
    Digest d = Digest::of(bytes);
    IMAGED_TRY(content::write_blob(*s.content, "layer-" + d.str(), bytes, d));
    layers.push_back({.digest = d.str(),
                      .diff_id = Digest::of("diff" + bytes).str(),
                      .size = static_cast<int64_t>(bytes.size()),
                      .uncompressed_size = static_cast<int64_t>(bytes.size()),
                      .media_type = "application/vnd.docker.image.rootfs.diff.tar.gzip"});
  }
  std::string config =
      R"({"architecture":"amd64","os":"linux","n":)" + std::to_string(iteration) + "}";
  std::string manifest = R"({"schemaVersion":2,"config":")" + Digest::of(config).str() + "\"}";
  Digest config_digest = Digest::of(config), manifest_digest = Digest::of(manifest);
  IMAGED_TRY(
      content::write_blob(*s.content, "config-" + config_digest.str(), config, config_digest));
  IMAGED_TRY(content::write_blob(*s.content, "manifest-" + manifest_digest.str(), manifest,
                                 manifest_digest));
  // A partial download left behind, as an interrupted pull leaves one.
  if (auto w = s.content->writer("partial-" + std::to_string(iteration), 1 << 20)) {
    (void)(*w)->write(layer_bytes(100 + iteration % 3).substr(0, 3000));
  }

  metadata::ImageRecord image{.id = config_digest.str(),
                              .os = "linux",
                              .architecture = "amd64",
                              .config_media_type = "application/vnd.docker.container.image.v1+json",
                              .config_size = static_cast<int64_t>(config.size())};
  std::vector<metadata::ManifestRecord> manifests{
      {.digest = manifest_digest.str(),
       .media_type = "application/vnd.docker.distribution.manifest.v2+json",
       .size = static_cast<int64_t>(manifest.size())}};
  auto freed = s.metadata->write([&](metadata::WriteTx& tx) -> Result<std::vector<std::string>> {
    IMAGED_TRY(tx.put_image(image, layers, manifests));
    auto moved = IMAGED_TRY(tx.set_tag("docker.io/library/crash",
                                       "t" + std::to_string(iteration % 4), image.id, now_ns()));
    // A moved tag leaves the old image dangling; delete it as `image prune` would.
    if (moved && *moved != image.id && IMAGED_TRY(tx.tags_of(*moved)).empty())
      return tx.delete_image(*moved);
    return std::vector<std::string>{};
  });
  // Not IMAGED_TRY(std::move(freed)): GCC 12 then warns of a maybe-uninitialized vector.
  if (!freed) return fail(std::move(freed.error()));
  IMAGED_TRY(s.sweeper->sweep(*freed));
  return {};
}

[[noreturn]] void writer_child(const std::filesystem::path& root, unsigned seed) {
  try {
    Stores s(root);
    std::mt19937 rng(seed);
    for (int i = 0;; ++i) {
      if (auto st = pull_once(s, rng, static_cast<int>(seed * 1000 + i)); !st) {
        fprintf(stderr, "writer child: %s\n", st.error().message.c_str());
        _exit(3);
      }
    }
  } catch (...) {
    _exit(2);
  }
}

// Every committed blob's bytes hash to its name.
void require_blobs_intact(content::LocalStore& store) {
  std::vector<Digest> all;
  REQUIRE(store.walk([&](const content::Info& info) { all.push_back(info.digest); }));
  for (const auto& d : all) {
    auto bytes = content::read_blob(store, d, 1 << 22);
    REQUIRE(bytes);
    REQUIRE(Digest::of(*bytes) == d);
  }
}

// A child that creates a store at `root`, reports 'c' on `report_fd`, makes the store's first
// write (one pull: blobs, then rows), reports 'w' and waits to be killed.
[[noreturn]] void first_write_child(const std::filesystem::path& root, int report_fd) {
  ::alarm(30);  // never outlive a parent that died
  try {
    Stores s(root);
    if (::write(report_fd, "c", 1) != 1) _exit(4);
    std::mt19937 rng(1);
    if (auto st = pull_once(s, rng, 1); !st) {
      fprintf(stderr, "first-write child: %s\n", st.error().message.c_str());
      _exit(3);
    }
    if (::write(report_fd, "w", 1) != 1) _exit(4);
    for (;;) ::pause();
  } catch (...) {
    _exit(2);
  }
}

// Reads the child's reports until `wanted` arrives.
void await_report(int fd, char wanted) {
  char got = 0;
  while (got != wanted) REQUIRE(::read(fd, &got, 1) == 1);
}

// What a power loss may leave of a file never synced: its size, but zeros.
void tear(const std::filesystem::path& file) {
  const auto size = std::filesystem::file_size(file);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << std::string(size, '\0');
}

}  // namespace

TEST_CASE("store check: a fresh store passes and reports nothing to sweep", "[store][crash]") {
  imaged::testing::TempDir dir;
  Stores s(dir.path());
  auto report = images::check_store(*s.content, *s.metadata, *s.sweeper);
  REQUIRE(report);
  CHECK(report->referenced_blobs == 0);
  CHECK(report->orphan_blobs_removed == 0);
}

TEST_CASE("store check: young orphan blobs are kept for a resuming pull, old ones swept",
          "[store][crash]") {
  imaged::testing::TempDir dir;
  Stores s(dir.path());
  Digest d = Digest::of("orphan layer");
  REQUIRE(content::write_blob(*s.content, "layer", "orphan layer", d));

  auto kept = images::check_store(*s.content, *s.metadata, *s.sweeper);
  REQUIRE(kept);
  CHECK(kept->orphan_blobs_kept == 1);
  CHECK(s.content->info(d));

  auto swept = images::check_store(*s.content, *s.metadata, *s.sweeper, {.orphan_ttl = 0s});
  REQUIRE(swept);
  CHECK(swept->orphan_blobs_removed == 1);
  CHECK_FALSE(s.content->info(d));
}

TEST_CASE("store check: a row whose blob is missing refuses to start", "[store][crash]") {
  imaged::testing::TempDir dir;
  {
    Stores s(dir.path());
    std::mt19937 rng(1);
    auto st = pull_once(s, rng, 1);
    if (!st) FAIL(st.error().message);
  }
  // Remove one committed blob behind the store's back.
  std::filesystem::path victim;
  for (const auto& e : std::filesystem::directory_iterator(dir.path() / "blobs" / "sha256"))
    victim = e.path();
  std::filesystem::permissions(victim.parent_path(), std::filesystem::perms::owner_all);
  std::filesystem::remove(victim);

  Stores s(dir.path());
  auto report = images::check_store(*s.content, *s.metadata, *s.sweeper);
  REQUIRE_FALSE(report);
  CHECK(report.error().code == Errc::DataLoss);
  CHECK_THAT(report.error().message, Catch::Contains("refusing to start"));
  CHECK_THAT(report.error().message, Catch::Contains(victim.filename().string()));
}

TEST_CASE("store check: a corrupted database refuses to start", "[store][crash]") {
  imaged::testing::TempDir dir;
  {
    // A written store (a never-written one is set aside instead: see the creation test below).
    Stores s(dir.path());
    std::mt19937 rng(1);
    auto st = pull_once(s, rng, 1);
    if (!st) FAIL(st.error().message);
  }
  {
    std::ofstream db(dir.path() / metadata::kMetaDbName, std::ios::binary | std::ios::trunc);
    db << std::string(8192, 'x');
  }
  // Either opening or checking fails, never silently.
  bool refused = false;
  try {
    Stores s(dir.path());
    refused = !images::check_store(*s.content, *s.metadata, *s.sweeper);
  } catch (const std::runtime_error&) {
    refused = true;
  }
  CHECK(refused);
}

TEST_CASE("store check: SIGKILL at random points never leaves a broken store", "[store][crash]") {
  imaged::testing::TempDir dir;
  std::mt19937 rng(20261128);
  constexpr int kKills = 40;
  int64_t images_seen = 0;
  for (int k = 0; k < kKills; ++k) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) writer_child(dir.path(), static_cast<unsigned>(k + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 120));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("kill " << k);
    // The child must have died from our signal, not from a failed store call.
    REQUIRE(WIFSIGNALED(status));

    Stores s(dir.path());
    auto report = images::check_store(*s.content, *s.metadata, *s.sweeper,
                                      {.ingest_ttl = 0s, .orphan_ttl = 0s});
    if (!report) FAIL(report.error().message);
    // After the sweep, the blob directory holds exactly the referenced blobs, all intact.
    int64_t files = 0;
    REQUIRE(s.content->walk([&](const content::Info&) { ++files; }));
    CHECK(files == report->referenced_blobs);
    require_blobs_intact(*s.content);
    auto ingests = s.content->ingests();
    REQUIRE(ingests);
    CHECK(ingests->empty());
    images_seen = std::max<int64_t>(
        images_seen, *s.metadata->read([](metadata::ReadTx& tx) { return tx.image_count(); }));
  }
  // The writer made progress between kills (the test did exercise commits).
  CHECK(images_seen > 0);
}

TEST_CASE("store check: SIGKILL during creation, right after it or after the first write",
          "[store][crash]") {
  imaged::testing::TempDir dir;
  std::mt19937 rng(20261129);
  constexpr int kKills = 24;
  for (int k = 0; k < kKills; ++k) {
    const auto root = dir.path() / ("root" + std::to_string(k));
    const auto marker =
        root / (std::string(metadata::kMetaDbName) + std::string(metadata::kUnsyncedSuffix));
    int report[2];
    REQUIRE(::pipe(report) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(report[0]);
      first_write_child(root, report[1]);
    }
    ::close(report[1]);
    // 0: right after creation; 1: right after the first write; 2: anywhere in between.
    const int phase = k % 3;
    if (phase == 0) await_report(report[0], 'c');
    if (phase == 1) await_report(report[0], 'w');
    if (phase == 2) std::this_thread::sleep_for(std::chrono::microseconds(rng() % 8000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ::close(report[0]);
    INFO("kill " << k << ", phase " << phase);
    REQUIRE(WIFSIGNALED(status));
    // Creation is not synced: after a power loss right after it, meta.db may be torn. That
    // store had no write, so it is set aside and created again.
    const bool torn = phase == 0 && k % 2 == 0;
    if (torn) tear(root / metadata::kMetaDbName);

    Stores s(root);
    CHECK(s.metadata->set_aside().has_value() == torn);
    auto report_or = images::check_store(*s.content, *s.metadata, *s.sweeper,
                                         {.ingest_ttl = 0s, .orphan_ttl = 0s});
    if (!report_or) FAIL(report_or.error().message);
    int64_t files = 0;
    REQUIRE(s.content->walk([&](const content::Info&) { ++files; }));
    CHECK(files == report_or->referenced_blobs);
    require_blobs_intact(*s.content);
    const int64_t images = *s.metadata->read([](metadata::ReadTx& tx) { return tx.image_count(); });
    // Only a write removes the marker, and then it is durable with the database.
    if (phase == 0) CHECK((images == 0 && std::filesystem::exists(marker)));
    if (phase == 1) CHECK((images == 1 && !std::filesystem::exists(marker)));
  }
}
