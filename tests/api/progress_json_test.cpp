#include "api/progress_json.h"

#include <catch2/catch.hpp>

#include "api/json_stream.h"

using namespace imaged;
using namespace imaged::api;

TEST_CASE("human_size matches go-units HumanSize", "[pull][progress_json]") {
  CHECK(human_size(0) == "0B");
  CHECK(human_size(512) == "512B");
  CHECK(human_size(36445) == "36.45kB");
  CHECK(human_size(1069030) == "1.069MB");
  CHECK(human_size(1000) == "1kB");
  CHECK(human_size(999999) == "1000kB");
  CHECK(human_size(191481111) == "191.5MB");
  CHECK(human_size(2.5e9) == "2.5GB");
}

TEST_CASE("the progress bar is dockerd's", "[pull][progress_json]") {
  // The capture: "[=>   …]  36.45kB/1.069MB" — 1 '=', '>', 49 spaces.
  CHECK(progress_bar(36445, 1069030) == "[=>" + std::string(49, ' ') + "]  36.45kB/1.069MB");
  CHECK(progress_bar(1069030, 1069030) == "[" + std::string(50, '=') + ">]  1.069MB/1.069MB");
  CHECK(progress_bar(0, 0) == "");
  CHECK(progress_bar(2000, 0) == "     2kB");
  CHECK(progress_bar(2000, 1000) == "[" + std::string(50, '=') + ">]      2kB");
}

TEST_CASE("progress messages have dockerd's fields and order", "[pull][progress_json]") {
  using images::Progress;
  CHECK(go_json(progress_message(
            Progress{.id = "musl", .status = "Pulling from library/busybox", .message = true})) ==
        R"({"status":"Pulling from library/busybox","id":"musl"})");
  CHECK(go_json(progress_message(Progress{.id = "cd0f9dc1d041", .status = "Pulling fs layer"})) ==
        R"({"status":"Pulling fs layer","progressDetail":{},"id":"cd0f9dc1d041"})");
  CHECK(
      go_json(progress_message(Progress{
          .id = "cd0f9dc1d041", .status = "Downloading", .current = 36445, .total = 1069030})) ==
      R"({"status":"Downloading","progressDetail":{"current":36445,"total":1069030},"progress":"[=\u003e)" +
          std::string(49, ' ') + R"(]  36.45kB/1.069MB","id":"cd0f9dc1d041"})");
  CHECK(go_json(progress_message(Progress{.status = "Digest: sha256:abc", .message = true})) ==
        R"({"status":"Digest: sha256:abc"})");
}
