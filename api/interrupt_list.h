// InterruptList: the callbacks a handler registered with ResponseWriter::on_interrupt(), fired
// once when its client goes away, the connection is force-closed, or a graceful stop begins.
//
// Thread safety: all methods are thread safe. fire() runs the callbacks under the list's lock, so
// disarm() (called when the handler returns) waits for a running callback and no callback ever
// runs after disarm() returned.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace imaged::api {

class InterruptList : public std::enable_shared_from_this<InterruptList> {
 public:
  // Registers fn; if the list already fired, calls fn now (on this thread) instead. The callback
  // is dropped when the returned handle is destroyed.
  std::shared_ptr<void> add(std::function<void()> fn);
  // Calls every callback once (first call only).
  void fire();
  // Drops every callback; later fire() calls nothing, later add() registers nothing.
  void disarm();
  bool fired() const;

 private:
  mutable std::mutex mu_;
  std::map<std::uint64_t, std::function<void()>> callbacks_;
  std::uint64_t next_id_ = 0;
  bool fired_ = false;
  bool disarmed_ = false;
};

}  // namespace imaged::api
