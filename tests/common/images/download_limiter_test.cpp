#include "common/images/download_limiter.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/process.h"

using namespace imaged;
using namespace imaged::images;
using namespace std::chrono_literals;

TEST_CASE("the limiter caps concurrent slots", "[pull][limiter]") {
  DownloadLimiter l(2);
  auto a = l.try_acquire();
  auto b = l.try_acquire();
  REQUIRE(a);
  REQUIRE(b);
  CHECK_FALSE(l.try_acquire());
  CHECK(l.in_use() == 2);
  a.reset();
  CHECK(l.in_use() == 1);
  CHECK(l.try_acquire());
}

TEST_CASE("waiters get slots in arrival order", "[pull][limiter]") {
  DownloadLimiter l(1);
  auto held = l.try_acquire();
  std::mutex mu;
  std::vector<int> order;
  std::vector<std::jthread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      auto slot = l.acquire();
      REQUIRE(slot);
      std::lock_guard lock(mu);
      order.push_back(i);
    });
    // Each one queued before the next starts.
    REQUIRE(testing::wait_until([&] { return l.waiting() == i + 1; }, 5s));
  }
  CHECK_FALSE(l.try_acquire());  // someone waits: no cutting in line
  held.reset();
  threads.clear();
  CHECK(order == std::vector<int>{0, 1, 2, 3});
}

TEST_CASE("a canceled waiter leaves the queue", "[pull][limiter]") {
  DownloadLimiter l(1);
  auto held = l.try_acquire();
  std::stop_source stop;
  Status result;
  std::jthread t([&] {
    auto slot = l.acquire(stop.get_token());
    result = slot ? Status{} : fail(slot.error());
  });
  REQUIRE(testing::wait_until([&] { return l.waiting() == 1; }, 5s));
  stop.request_stop();
  t.join();
  REQUIRE_FALSE(result);
  CHECK(result.error().code == Errc::Canceled);
  CHECK(l.waiting() == 0);
  held.reset();
  CHECK(l.try_acquire());
}
