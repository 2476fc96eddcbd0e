#include "common/containers/snapshots.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <thread>

#include "common/content/local_store.h"
#include "tests/support/must.h"
#include "tests/support/tar_builder.h"
#include "tests/support/temp_dir.h"

using namespace imaged;
using imaged::testing::make_tar;
using imaged::testing::must;
using imaged::testing::TempDir;

TEST_CASE("snapshots: one unpack per image, complete or absent, stale ones pruned",
          "[containers]") {
  TempDir dir("imaged-snapshots");
  auto store = must(content::LocalStore::open(dir / "store"), "open");
  std::string layer = make_tar({{.path = "hello", .data = "world"}}, /*gzip=*/true);
  Digest blob = Digest::of(layer);
  auto w = must(store->writer("l", static_cast<int64_t>(layer.size())), "writer");
  must(w->write(std::as_bytes(std::span(layer))), "write");
  must(w->commit(static_cast<int64_t>(layer.size()), blob), "commit");
  Digest image = Digest::of("config");

  containers::Snapshots snapshots(*store, dir / "snapshots");
  std::vector<std::filesystem::path> paths(4);
  std::vector<std::thread> threads;
  for (auto& p : paths)
    threads.emplace_back([&] { p = must(snapshots.prepare(image, {blob}), "prepare"); });
  for (auto& t : threads) t.join();
  for (const auto& p : paths) CHECK(p == dir / "snapshots" / std::string(image.hex()));
  std::ifstream in(paths[0] / "hello");
  std::string text;
  in >> text;
  CHECK(text == "world");
  CHECK(std::distance(std::filesystem::directory_iterator(dir / "snapshots"),
                      std::filesystem::directory_iterator()) == 1);

  // A missing layer leaves nothing behind.
  Digest other = Digest::of("other config");
  CHECK_FALSE(snapshots.prepare(other, {Digest::of("missing")}));
  CHECK_FALSE(std::filesystem::exists(dir / "snapshots" / std::string(other.hex())));

  std::filesystem::create_directories(dir / "snapshots/tmp-crashed");
  snapshots.prune_stale([&](const Digest& d) { return d == image; });
  CHECK(std::filesystem::exists(paths[0]));
  CHECK_FALSE(std::filesystem::exists(dir / "snapshots/tmp-crashed"));
  snapshots.prune_stale([](const Digest&) { return false; });
  CHECK_FALSE(std::filesystem::exists(paths[0]));
}
