#include "common/images/single_flight.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <latch>
#include <thread>
#include <vector>

#include "tests/support/process.h"

using namespace imaged;
using namespace imaged::images;
using namespace std::chrono_literals;

using Flight = SingleFlight<int, int>;

TEST_CASE("concurrent callers share one execution", "[pull][single_flight]") {
  Flight f;
  std::atomic<int> runs{0};
  std::latch release(1);
  std::vector<int> results(5);
  std::vector<bool> leaders(5);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < 5; ++i)
      threads.emplace_back([&, i] {
        bool leader = false;
        auto r = f.run(
            "k", {},
            [&](std::stop_token, Flight::Publisher& p) -> Result<int> {
              ++runs;
              p.publish(1);
              release.wait();
              return 42;
            },
            {}, &leader);
        results[i] = r.value();
        leaders[i] = leader;
      });
    REQUIRE(testing::wait_until([&] { return f.callers("k") == 5; }, 5s));
    release.count_down();
  }
  CHECK(runs == 1);
  for (int r : results) CHECK(r == 42);
  CHECK(std::count(leaders.begin(), leaders.end(), true) == 1);
  CHECK(f.in_flight() == 0);
}

TEST_CASE("followers observe the published status", "[pull][single_flight]") {
  Flight f;
  std::latch started(1), go(1);
  std::vector<int> seen;
  std::jthread leader([&] {
    (void)f.run("k", {}, [&](std::stop_token, Flight::Publisher& p) -> Result<int> {
      started.count_down();
      go.wait();
      for (int i = 1; i <= 3; ++i) p.publish(i);
      return 7;
    });
  });
  started.wait();
  std::jthread follower([&] {
    auto r = f.run(
        "k", {}, [](std::stop_token, Flight::Publisher&) -> Result<int> { return -1; },
        [&](const int& s) { seen.push_back(s); });
    CHECK(r.value() == 7);
  });
  REQUIRE(testing::wait_until([&] { return f.callers("k") == 2; }, 5s));
  go.count_down();
  follower.join();
  REQUIRE_FALSE(seen.empty());
  CHECK(seen.back() == 3);
}

TEST_CASE("one caller leaving does not cancel the work others wait for", "[pull][single_flight]") {
  Flight f;
  std::latch started(1), go(1);
  std::stop_source leader_stop, follower_stop;
  std::atomic<bool> work_stopped{false};
  Result<int> leader_result = 0, follower_result = 0;
  std::jthread leader([&] {
    leader_result = f.run("k", leader_stop.get_token(),
                          [&](std::stop_token s, Flight::Publisher&) -> Result<int> {
                            started.count_down();
                            go.wait();
                            work_stopped = s.stop_requested();
                            return 5;
                          });
  });
  started.wait();
  std::jthread follower([&] {
    follower_result = f.run("k", follower_stop.get_token(),
                            [](std::stop_token, Flight::Publisher&) -> Result<int> { return -1; });
  });
  REQUIRE(testing::wait_until([&] { return f.callers("k") == 2; }, 5s));
  leader_stop.request_stop();  // the leader's client leaves; the follower still waits
  REQUIRE(f.callers("k") == 1);
  go.count_down();
  leader.join();
  follower.join();
  CHECK_FALSE(work_stopped);
  CHECK(follower_result.value() == 5);
}

TEST_CASE("the work stops when every caller has left", "[pull][single_flight]") {
  Flight f;
  std::latch started(1);
  std::stop_source leader_stop, follower_stop;
  Result<int> follower_result = 0, leader_result = 0;
  std::jthread leader([&] {
    leader_result = f.run("k", leader_stop.get_token(),
                          [&](std::stop_token s, Flight::Publisher&) -> Result<int> {
                            started.count_down();
                            while (!s.stop_requested()) std::this_thread::sleep_for(5ms);
                            return fail(Errc::Canceled, "stopped");
                          });
  });
  started.wait();
  std::jthread follower([&] {
    follower_result = f.run("k", follower_stop.get_token(),
                            [](std::stop_token, Flight::Publisher&) -> Result<int> { return -1; });
  });
  REQUIRE(testing::wait_until([&] { return f.callers("k") == 2; }, 5s));
  follower_stop.request_stop();
  follower.join();
  CHECK(follower_result.error().code == Errc::Canceled);
  leader_stop.request_stop();
  leader.join();
  CHECK(leader_result.error().code == Errc::Canceled);
  CHECK(f.in_flight() == 0);
}
