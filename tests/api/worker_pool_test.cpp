#include "api/worker_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "tests/support/process.h"

using imaged::api::WorkerPool;
using imaged::testing::wait_until;
using namespace std::chrono_literals;

namespace {

// Holds tasks until released.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return open; });
  }
  void release() {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
};

}  // namespace

TEST_CASE("worker pool: starts empty and grows one thread per blocked task", "[api]") {
  WorkerPool pool(8);
  CHECK(pool.threads() == 0);
  Gate gate;
  std::atomic<int> running{0};
  for (int i = 0; i < 3; ++i)
    pool.submit([&] {
      ++running;
      gate.wait();
    });
  CHECK(wait_until([&] { return running == 3; }, 5s));
  CHECK(pool.threads() == 3);
  CHECK(pool.busy() == 3);
  gate.release();
  pool.shutdown();
}

TEST_CASE("worker pool: beyond the cap tasks queue and run in order", "[api]") {
  // One worker, held by a blocked task: the others queue and then run FIFO on that worker.
  WorkerPool pool(1);
  Gate gate;
  std::atomic<int> running{0};
  std::mutex mu;
  std::vector<int> order;
  pool.submit([&] {
    ++running;
    gate.wait();
  });
  for (int i = 0; i < 3; ++i)
    pool.submit([&, i] {
      std::lock_guard lock(mu);
      order.push_back(i);
    });
  CHECK(wait_until([&] { return running == 1; }, 5s));
  CHECK(pool.threads() == 1);
  CHECK(pool.queued() == 3);
  gate.release();
  pool.shutdown();
  CHECK(order == std::vector<int>{0, 1, 2});
}

TEST_CASE("worker pool: idle workers exit after the idle timeout", "[api]") {
  WorkerPool pool(4, 50ms);
  std::atomic<int> done{0};
  for (int i = 0; i < 3; ++i) pool.submit([&] { ++done; });
  CHECK(wait_until([&] { return done == 3; }, 5s));
  CHECK(wait_until([&] { return pool.threads() == 0; }, 5s));
  // And it grows again afterwards.
  pool.submit([&] { ++done; });
  CHECK(wait_until([&] { return done == 4; }, 5s));
}

TEST_CASE("worker pool: shutdown runs queued tasks, then refuses new ones", "[api]") {
  WorkerPool pool(1);
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) pool.submit([&] { ++done; });
  pool.shutdown();
  CHECK(done == 5);
  CHECK_FALSE(pool.submit([&] { ++done; }));
  CHECK(pool.threads() == 0);
}
