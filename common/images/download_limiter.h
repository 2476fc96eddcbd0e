// DownloadLimiter: the daemon-wide cap on concurrent blob downloads (dockerd's
// --max-concurrent-downloads, default 3), handed out in strict arrival order (FIFO), so that a
// pull that queued first starts first and a big pull cannot starve a later small one forever.
//
// Thread-safe. The limiter must outlive its Slots.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

#include "common/error.h"

namespace imaged::images {

class DownloadLimiter {
 public:
  // A held download slot; released when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept {
      if (this != &other) {
        reset();
        owner_ = std::exchange(other.owner_, nullptr);
      }
      return *this;
    }
    ~Slot() { reset(); }
    void reset();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class DownloadLimiter;
    explicit Slot(DownloadLimiter* owner) : owner_(owner) {}
    DownloadLimiter* owner_ = nullptr;
  };

  // `max_concurrent` < 1 is taken as 1.
  explicit DownloadLimiter(int max_concurrent);
  DownloadLimiter(const DownloadLimiter&) = delete;
  DownloadLimiter& operator=(const DownloadLimiter&) = delete;

  // A slot now, or nullopt when none is free or someone is already waiting (FIFO is kept).
  std::optional<Slot> try_acquire();
  // Waits for a slot, behind everyone who asked earlier. Canceled when `stop` is requested
  // first (the place in the queue is given up).
  Result<Slot> acquire(std::stop_token stop = {});

  int limit() const { return limit_; }
  int in_use() const;
  int waiting() const;

 private:
  void release();

  const int limit_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  int in_use_ = 0;              // guarded by mu_
  std::deque<uint64_t> queue_;  // tickets of waiters, oldest first; guarded by mu_
  uint64_t next_ticket_ = 0;    // guarded by mu_
};

}  // namespace imaged::images
