#include "api/interrupt_list.h"

namespace imaged::api {

std::shared_ptr<void> InterruptList::add(std::function<void()> fn) {
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (disarmed_) return nullptr;
    if (!fired_) {
      id = ++next_id_;
      callbacks_.emplace(id, std::move(fn));
    }
  }
  if (id == 0) {
    fn();  // already interrupted
    return nullptr;
  }
  std::weak_ptr<InterruptList> weak = weak_from_this();
  // The handle owns nothing; its deleter unregisters the callback.
  return std::shared_ptr<void>(static_cast<void*>(nullptr), [weak, id](void*) {
    if (auto self = weak.lock()) {
      std::lock_guard lock(self->mu_);
      self->callbacks_.erase(id);
    }
  });
}

void InterruptList::fire() {
  std::lock_guard lock(mu_);
  if (fired_ || disarmed_) {
    fired_ = true;
    return;
  }
  fired_ = true;
  for (auto& [_, fn] : callbacks_) fn();
  callbacks_.clear();
}

void InterruptList::disarm() {
  std::lock_guard lock(mu_);
  disarmed_ = true;
  callbacks_.clear();
}

bool InterruptList::fired() const {
  std::lock_guard lock(mu_);
  return fired_;
}

}  // namespace imaged::api
