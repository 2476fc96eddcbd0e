// Micro-benchmark of the 10k-tag listing path, split by stage (hidden: run with '[bench]').
#include <catch2/catch.hpp>

#include <chrono>
#include <iostream>

#include "api/image_json.h"
#include "common/images/image_index.h"
#include "common/images/image_inspector.h"
#include "common/images/image_lister.h"
#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;

TEST_CASE("bench: list and inspect with 10k tags, by stage", "[.][bench]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl"}));
  must(f.metadata().write([&](metadata::WriteTx& tx) -> Status {
    for (int i = 0; i < 10000; ++i)
      IMAGED_TRY(tx.set_tag("docker.io/bench/app", "t" + std::to_string(i), img.id, 1));
    return {};
  }));
  auto time = [](const char* what, int n, auto&& fn) {
    fn();
    const auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) fn();
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t)
            .count() /
        n;
    std::cout << what << ": " << us << " us\n";
  };
  time("list_tags (SQLite rows)", 20,
       [&] { must(f.metadata().read([](metadata::ReadTx& tx) { return tx.list_tags(); })); });
  time("names_version", 20,
       [&] { must(f.metadata().read([](metadata::ReadTx& tx) { return tx.names_version(); })); });
  time("build index", 5, [&] {
    must(f.metadata().read([](metadata::ReadTx& tx) { return build_image_index(tx); }));
  });
  time("service list", 20, [&] { must(f.service().list({})); });
  ListOptions narrow;
  narrow.references = {"bench/app:t99*"};
  time("service list reference=t99*", 20, [&] { must(f.service().list(narrow)); });
  auto list = must(f.service().list({}));
  time("list JSON text", 20, [&] { api::image_list_json_text(list, api::ApiVersion{1, 41}); });
  time("service inspect", 20, [&] { must(f.service().inspect("busybox:musl")); });
  auto detail = must(f.service().inspect("busybox:musl"));
  time("inspect JSON", 20, [&] { api::image_inspect_json_text(detail, api::ApiVersion{1, 41}); });
}
