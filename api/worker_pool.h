// WorkerPool: the threads that run blocking handlers (SQLite, disk, registries), so that no
// handler ever runs on an I/O thread.
//
// The pool starts empty and grows on demand: submit() starts a thread when no worker is idle,
// up to max_threads; beyond that, tasks queue (FIFO) until a worker frees up. Long-lived handlers
// (GET /events, a slow pull) hold their worker for their whole life, so max_threads bounds the
// number of concurrent in-flight requests, not connections; size it above the expected number of
// concurrent streams. Workers idle for longer than idle_timeout exit (down to zero).
//
// Thread safety: all methods are thread safe. shutdown() waits for queued and running tasks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace imaged::api {

class WorkerPool {
 public:
  explicit WorkerPool(std::size_t max_threads,
                      std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));
  ~WorkerPool();  // shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues a task. Returns false (and drops the task) after shutdown() began.
  bool submit(std::function<void()> task);

  // Stops accepting tasks, runs every queued task, joins all threads. Idempotent.
  void shutdown();

  std::size_t threads() const;  // live worker threads
  std::size_t busy() const;     // workers running a task
  std::size_t queued() const;   // tasks waiting for a worker

 private:
  void run();
  void reap_locked(std::vector<std::thread>& out);

  const std::size_t max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;     // live or exiting
  std::vector<std::thread::id> exited_;  // finished threads waiting to be joined
  std::size_t live_ = 0;
  std::size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace imaged::api
