#include "api/worker_pool.h"

#include <algorithm>

namespace imaged::api {

WorkerPool::WorkerPool(std::size_t max_threads, std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max<std::size_t>(1, max_threads)), idle_timeout_(idle_timeout) {}

WorkerPool::~WorkerPool() { shutdown(); }

void WorkerPool::reap_locked(std::vector<std::thread>& out) {
  // Threads that announced their exit are moved out and joined without the lock held.
  for (auto id : exited_) {
    auto it = std::find_if(threads_.begin(), threads_.end(),
                           [&](const std::thread& t) { return t.get_id() == id; });
    if (it != threads_.end()) {
      out.push_back(std::move(*it));
      threads_.erase(it);
    }
  }
  exited_.clear();
}

bool WorkerPool::submit(std::function<void()> task) {
  std::vector<std::thread> finished;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    reap_locked(finished);
    tasks_.push_back(std::move(task));
    // Grow when every live worker is busy (queued tasks already count against idle workers).
    if (idle_ < tasks_.size() && live_ < max_threads_) {
      ++live_;
      threads_.emplace_back([this] { run(); });
    } else {
      cv_.notify_one();
    }
  }
  for (auto& t : finished) t.join();
  return true;
}

void WorkerPool::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    bool woke = cv_.wait_for(lock, idle_timeout_, [&] { return !tasks_.empty() || stopping_; });
    --idle_;
    if (!woke || (tasks_.empty() && stopping_)) break;  // idle too long, or drained at shutdown
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();          // handlers never throw out of the connection's wrapper; see Session
    task = nullptr;  // destroy captures outside the lock
    lock.lock();
  }
  --live_;
  exited_.push_back(std::this_thread::get_id());
  cv_.notify_all();  // shutdown() may be waiting for live_ == 0
}

void WorkerPool::shutdown() {
  std::vector<std::thread> all;
  {
    std::unique_lock lock(mu_);
    stopping_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return live_ == 0; });
    exited_.clear();
    all = std::move(threads_);
    threads_.clear();
  }
  for (auto& t : all)
    if (t.joinable()) t.join();
}

std::size_t WorkerPool::threads() const {
  std::lock_guard lock(mu_);
  return live_;
}

std::size_t WorkerPool::busy() const {
  std::lock_guard lock(mu_);
  return live_ - idle_;
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return tasks_.size();
}

}  // namespace imaged::api
