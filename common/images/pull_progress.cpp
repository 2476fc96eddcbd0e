#include "common/images/pull_progress.h"

#include <algorithm>
#include <utility>

namespace imaged::images {

int64_t progress_step(int64_t total) {
  int64_t step = 512 * 1024;
  if (total > 0) step = std::min(step, static_cast<int64_t>(0.01 * static_cast<double>(total)));
  return step;
}

PullProgress::PullProgress(ProgressSink sink, std::function<void()> on_gone,
                           std::chrono::milliseconds interval)
    : sink_(std::move(sink)), on_gone_(std::move(on_gone)), interval_(interval) {}

void PullProgress::send(const Progress& p) {
  if (gone_) return;
  if (!sink_ || sink_(p)) {
    started_ = true;
    return;
  }
  gone_ = true;
  fire_gone_ = true;
}

void PullProgress::unlock_and_notify(std::unique_lock<std::mutex>& lock) {
  const bool fire = std::exchange(fire_gone_, false);
  lock.unlock();
  // Outside the lock: stopping the pull runs stop callbacks of other components.
  if (fire && on_gone_) on_gone_();
}

void PullProgress::message(const std::string& id, const std::string& status) {
  std::unique_lock lock(mu_);
  send(Progress{.id = id, .status = status, .message = true});
  unlock_and_notify(lock);
}

void PullProgress::update(const std::string& id, const std::string& status) {
  std::unique_lock lock(mu_);
  send(Progress{.id = id, .status = status});
  unlock_and_notify(lock);
}

void PullProgress::set_layers(std::vector<std::string> ids, std::vector<bool> pending) {
  std::lock_guard lock(mu_);
  layers_.clear();
  for (size_t i = 0; i < ids.size(); ++i)
    layers_.push_back(Layer{.id = std::move(ids[i]), .pending = i < pending.size() && pending[i]});
  next_complete_ = 0;
}

void PullProgress::downloading(Layer& l, int64_t current, int64_t total, bool force) {
  if (current <= 0 || current == l.sent_current) return;
  const auto now = Clock::now();
  if (!force && current != total) {
    if (l.sent_current >= 0 && current - l.sent_current <= progress_step(total)) return;
    if (l.sent_current >= 0 && now - l.sent_at < interval_) return;
  }
  l.sent_current = current;
  l.sent_at = now;
  send(Progress{.id = l.id, .status = "Downloading", .current = current, .total = total});
}

void PullProgress::layer_status(size_t i, const LayerStatus& s) {
  std::unique_lock lock(mu_);
  if (i >= layers_.size()) return;
  Layer& l = layers_[i];
  if (s.phase < l.phase) return;  // stale
  switch (s.phase) {
    case LayerStatus::Waiting:
      if (l.phase < 0) send(Progress{.id = l.id, .status = "Waiting"});
      break;
    case LayerStatus::Downloading:
      downloading(l, s.current, s.total, false);
      break;
    case LayerStatus::Verifying:
    case LayerStatus::Complete:
      if (l.phase < LayerStatus::Verifying) {
        // dockerd's reader always reports the last bytes before verifying.
        if (s.total > 0 && l.sent_current >= 0) downloading(l, s.total, s.total, true);
        send(Progress{.id = l.id, .status = "Verifying Checksum"});
      }
      if (s.phase == LayerStatus::Complete && l.phase < LayerStatus::Complete)
        send(Progress{.id = l.id, .status = "Download complete"});
      break;
  }
  l.phase = std::max<int>(l.phase, s.phase);
  unlock_and_notify(lock);
}

void PullProgress::layer_note(size_t i, const std::string& status) {
  std::unique_lock lock(mu_);
  if (i < layers_.size()) send(Progress{.id = layers_[i].id, .status = status});
  unlock_and_notify(lock);
}

void PullProgress::layer_done(size_t i) {
  std::unique_lock lock(mu_);
  if (i >= layers_.size()) return;
  layers_[i].done = true;
  while (next_complete_ < layers_.size() &&
         (layers_[next_complete_].done || !layers_[next_complete_].pending)) {
    Layer& l = layers_[next_complete_++];
    if (l.pending) send(Progress{.id = l.id, .status = "Pull complete"});
  }
  unlock_and_notify(lock);
}

bool PullProgress::started() const {
  std::lock_guard lock(mu_);
  return started_;
}

bool PullProgress::gone() const {
  std::lock_guard lock(mu_);
  return gone_;
}

}  // namespace imaged::images
