#include "client/progress.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

using namespace imaged::client;
using namespace std::chrono_literals;

namespace {
struct FakeClock {
  ProgressRenderer::Clock::time_point t{};
  std::function<ProgressRenderer::Clock::time_point()> fn() {
    return [this] { return t; };
  }
};

std::string layer_msg(const std::string& id, const std::string& status, long cur = -1,
                      long total = 0) {
  nlohmann::json m{{"status", status}, {"id", id}, {"progressDetail", nlohmann::json::object()}};
  if (cur >= 0) m["progressDetail"] = {{"current", cur}, {"total", total}};
  return m.dump() + "\r\n";
}

std::size_t count_lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n'); }
}  // namespace

TEST_CASE("client progress: plain mode is throttled per layer and ends with a summary",
          "[client]") {
  std::ostringstream out;
  FakeClock clock;
  ProgressRenderer r(out, ProgressMode::Plain, clock.fn(), 5s);
  r.feed(R"({"status":"Pulling from library/busybox","id":"musl"})"
         "\r\n");
  for (int layer = 0; layer < 8; ++layer) {
    std::string id = "aaaaaaaaaaa" + std::to_string(layer);
    r.feed(layer_msg(id, "Pulling fs layer"));
  }
  // 1000 progress messages per layer over 12 seconds: at most 2 lines per layer.
  for (int i = 0; i < 1000; ++i) {
    clock.t += 12ms;
    for (int layer = 0; layer < 8; ++layer)
      r.feed(layer_msg("aaaaaaaaaaa" + std::to_string(layer), "Downloading", i * 1000, 1000000));
  }
  for (int layer = 0; layer < 8; ++layer) {
    std::string id = "aaaaaaaaaaa" + std::to_string(layer);
    r.feed(layer_msg(id, "Download complete"));
    r.feed(layer_msg(id, "Pull complete"));
  }
  r.feed(R"({"status":"Digest: sha256:abc"})"
         "\r\n"
         R"({"status":"Status: Downloaded newer image for busybox:musl"})"
         "\r\n");
  r.finish();
  std::string text = out.str();
  INFO(text);
  CHECK(count_lines(text) <= 1 + 8 * 2 + 8 + 2 + 1);
  CHECK(text.find("musl: Pulling from library/busybox\n") == 0);
  CHECK(text.find("aaaaaaaaaaa3: Downloading ") != std::string::npos);
  CHECK(text.find("aaaaaaaaaaa3: Pull complete\n") != std::string::npos);
  CHECK(text.find("Summary: 8 layers, 8MB in 12.0s\n") != std::string::npos);
  CHECK(text.find("\x1b[") == std::string::npos);
  CHECK_FALSE(r.error());
}

TEST_CASE("client progress: tty mode redraws bars in place at most every 100ms", "[client]") {
  std::ostringstream out;
  FakeClock clock;
  ProgressRenderer r(out, ProgressMode::Tty, clock.fn());
  r.feed(layer_msg("bbbbbbbbbbbb", "Pulling fs layer"));
  std::size_t before = out.str().size();
  for (int i = 1; i <= 50; ++i) r.feed(layer_msg("bbbbbbbbbbbb", "Downloading", i * 100, 10000));
  CHECK(out.str().size() == before);  // same instant: throttled
  clock.t += 150ms;
  r.feed(layer_msg("bbbbbbbbbbbb", "Downloading", 5000, 10000));
  std::string text = out.str();
  CHECK(text.find("\x1b[2A") != std::string::npos);  // cursor up over layer + total lines
  CHECK(text.find("bbbbbbbbbbbb: Downloading [===============>") != std::string::npos);
  CHECK(text.find("5kB/10kB") != std::string::npos);
  CHECK(text.find("Total: 5kB/10kB") != std::string::npos);
  CHECK(text.find("ETA") != std::string::npos);
  r.feed(layer_msg("bbbbbbbbbbbb", "Pull complete"));
  r.finish();
  CHECK(out.str().find("bbbbbbbbbbbb: Pull complete") != std::string::npos);
}

TEST_CASE("client progress: in-stream errors and json/quiet modes", "[client]") {
  std::ostringstream out;
  ProgressRenderer r(out, ProgressMode::Json);
  r.feed(R"({"status":"The push refers to repository [x/y]"})"
         "\r\n"
         R"({"errorDetail":{"message":"boom"},"error":"boom"})"
         "\r\n");
  r.finish();
  REQUIRE(r.error());
  CHECK(*r.error() == "boom");
  CHECK(count_lines(out.str()) == 2);
  std::ostringstream q;
  ProgressRenderer quiet(q, ProgressMode::Quiet);
  quiet.feed(R"({"stream":"Loaded image: busybox:musl\n"})"
             "\r\n");
  quiet.finish();
  CHECK(q.str().empty());
  REQUIRE(quiet.streams().size() == 1);
  CHECK(quiet.streams()[0] == "Loaded image: busybox:musl\n");
  CHECK(parse_progress_mode("auto", true).value() == ProgressMode::Tty);
  CHECK(parse_progress_mode("auto", false).value() == ProgressMode::Plain);
  CHECK_FALSE(parse_progress_mode("fancy", false));
}
