#include "api/container_json.h"

#include <catch2/catch.hpp>

using namespace imaged::api;
using imaged::containers::Snapshot;
using imaged::containers::State;

TEST_CASE("container status texts as go-units HumanDuration and moby State.String",
          "[containers][api]") {
  constexpr int64_t s = 1'000'000'000;
  CHECK(human_duration(s / 2) == "Less than a second");
  CHECK(human_duration(s) == "1 second");
  CHECK(human_duration(59 * s) == "59 seconds");
  CHECK(human_duration(60 * s) == "About a minute");
  CHECK(human_duration(150 * s) == "2 minutes");
  CHECK(human_duration(3600 * s) == "About an hour");
  CHECK(human_duration(5 * 3600 * s) == "5 hours");
  CHECK(human_duration(3 * 86400 * s) == "3 days");
  CHECK(human_duration(20 * 86400 * s) == "2 weeks");
  CHECK(human_duration(90 * 86400 * s) == "3 months");
  CHECK(human_duration(800 * 86400 * s) == "2 years");

  Snapshot snap;
  CHECK(container_status_text(snap, 10 * s) == "Created");
  snap.state = State::Running;
  snap.started_ns = 7 * s;
  CHECK(container_status_text(snap, 10 * s) == "Up 3 seconds");
  snap.state = State::Exited;
  snap.exit_code = 137;
  snap.finished_ns = 8 * s;
  CHECK(container_status_text(snap, 10 * s) == "Exited (137) 2 seconds ago");
}
