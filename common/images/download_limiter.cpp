#include "common/images/download_limiter.h"

#include <algorithm>

namespace imaged::images {

void DownloadLimiter::Slot::reset() {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->release();
}

DownloadLimiter::DownloadLimiter(int max_concurrent) : limit_(std::max(1, max_concurrent)) {}

std::optional<DownloadLimiter::Slot> DownloadLimiter::try_acquire() {
  std::lock_guard lock(mu_);
  if (!queue_.empty() || in_use_ >= limit_) return std::nullopt;
  ++in_use_;
  return Slot(this);
}

Result<DownloadLimiter::Slot> DownloadLimiter::acquire(std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (queue_.empty() && in_use_ < limit_) {
    ++in_use_;
    return Slot(this);
  }
  const uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  const bool got =
      cv_.wait(lock, stop, [&] { return queue_.front() == ticket && in_use_ < limit_; });
  if (!got) {
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    cv_.notify_all();  // the next in line may be the front now
    return fail(Errc::Canceled, "canceled while waiting for a download slot");
  }
  queue_.pop_front();
  ++in_use_;
  cv_.notify_all();  // the next in line may take another free slot
  return Slot(this);
}

void DownloadLimiter::release() {
  {
    std::lock_guard lock(mu_);
    --in_use_;
  }
  cv_.notify_all();
}

int DownloadLimiter::in_use() const {
  std::lock_guard lock(mu_);
  return in_use_;
}

int DownloadLimiter::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace imaged::images
