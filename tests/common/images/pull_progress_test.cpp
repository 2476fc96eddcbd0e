#include "common/images/pull_progress.h"

#include <catch2/catch.hpp>

using namespace imaged::images;

namespace {

struct Recorder {
  std::vector<std::string> lines;
  bool accept = true;
  ProgressSink sink() {
    return [this](const Progress& p) {
      if (!accept) return false;
      std::string s = p.id.empty() ? p.status : p.id + ": " + p.status;
      if (p.current)
        s += " " + std::to_string(*p.current) + "/" + std::to_string(p.total.value_or(0));
      lines.push_back(s);
      return true;
    };
  }
};

}  // namespace

TEST_CASE("layer statuses come out in dockerd's order, missing steps filled in",
          "[pull][progress]") {
  Recorder r;
  PullProgress p(r.sink(), {}, std::chrono::milliseconds(0));
  p.set_layers({"aaa", "bbb"}, {true, true});
  p.layer_status(0, {LayerStatus::Downloading, 100, 1000});
  p.layer_status(0, {LayerStatus::Waiting});  // stale: ignored
  p.layer_status(0, {LayerStatus::Complete, 1000, 1000});
  CHECK(r.lines == std::vector<std::string>{"aaa: Downloading 100/1000",
                                            "aaa: Downloading 1000/1000", "aaa: Verifying Checksum",
                                            "aaa: Download complete"});
}

TEST_CASE("Pull complete follows layer order", "[pull][progress]") {
  Recorder r;
  PullProgress p(r.sink(), {}, std::chrono::milliseconds(0));
  p.set_layers({"a", "b", "c", "d"}, {true, false, true, true});
  p.layer_done(3);
  CHECK(r.lines.empty());
  p.layer_done(0);  // b needs no download: a, then c? no, c is not done
  CHECK(r.lines == std::vector<std::string>{"a: Pull complete"});
  p.layer_done(2);
  CHECK(r.lines ==
        std::vector<std::string>{"a: Pull complete", "c: Pull complete", "d: Pull complete"});
}

TEST_CASE("Downloading lines are throttled by bytes", "[pull][progress]") {
  Recorder r;
  PullProgress p(r.sink(), {}, std::chrono::milliseconds(0));
  p.set_layers({"a"}, {true});
  const int64_t total = 100 << 20;  // step: 512 KiB
  for (int64_t at = 16384; at <= 4 << 20; at += 16384)
    p.layer_status(0, {LayerStatus::Downloading, at, total});
  // 4 MiB in 16 KiB steps, a line every > 512 KiB: 8 lines (the first at 16 KiB).
  CHECK(r.lines.size() == 8);
  CHECK(progress_step(1000) == 10);
  CHECK(progress_step(1 << 30) == 512 * 1024);
}

TEST_CASE("a sink that refuses stops the reporting and tells the puller once", "[pull][progress]") {
  Recorder r;
  int gone = 0;
  PullProgress p(r.sink(), [&] { ++gone; });
  p.message("musl", "Pulling from library/busybox");
  CHECK(p.started());
  r.accept = false;
  p.update("a", "Pulling fs layer");
  p.update("b", "Pulling fs layer");
  CHECK(gone == 1);
  CHECK(p.gone());
  CHECK(r.lines.size() == 1);
}
