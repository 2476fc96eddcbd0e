// SingleFlight: one execution per key at a time, shared by everyone who asks for that key while
// it runs (after Go's singleflight and moby's xfer transfers). The puller keys downloads by blob
// digest, so five concurrent pulls of one image fetch each blob once.
//
//  - The first caller (the leader) runs `work` on its own thread; later callers (followers) wait
//    for its result, which every caller receives (a copy).
//  - The work can publish a status (S, e.g. bytes done); every follower's `observe` is called on
//    the follower's own thread with the latest status whenever it changed (intermediate values
//    may be skipped; the last one before completion is always seen).
//  - Cancellation is reference-counted: each caller's `stop` withdraws that caller only. The
//    work's stop token is triggered when every caller has withdrawn, so one client
//    disconnecting never cancels a download another still waits for. A follower withdraws at
//    once (Errc::Canceled); the leader's thread keeps running the work to its end (it is the one
//    doing it) and then returns its result.
//  - A caller that joins a flight already abandoned by everyone (its stop requested) waits for it
//    to wind down and then starts a fresh one.
//  - A finished flight is forgotten: the next caller for the key starts a new one.
//
// Thread-safe. T and S must be copyable. The SingleFlight must outlive every run() call.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <unordered_map>

#include "common/error.h"

namespace imaged::images {

template <class T, class S>
class SingleFlight {
 public:
  // Given to the work: publish() makes a new status visible to followers.
  class Publisher {
   public:
    void publish(const S& status) {
      {
        std::lock_guard lock(owner_.mu_);
        state_.status = status;
        ++state_.version;
      }
      owner_.cv_.notify_all();
    }

   private:
    friend class SingleFlight;
    Publisher(SingleFlight& owner, typename SingleFlight::State& state)
        : owner_(owner), state_(state) {}
    SingleFlight& owner_;
    typename SingleFlight::State& state_;
  };

  using Work = std::function<Result<T>(std::stop_token stop, Publisher& publisher)>;
  using Observe = std::function<void(const S& status)>;

  // Runs or joins the flight for `key`. `leader`, when given, is set to whether this caller ran
  // the work. Errc::Canceled when `stop` was requested while following.
  Result<T> run(const std::string& key, std::stop_token stop, const Work& work,
                const Observe& observe = {}, bool* leader = nullptr) {
    for (;;) {
      std::unique_lock lock(mu_);
      auto [it, created] = flights_.try_emplace(key);
      if (created) it->second = std::make_shared<State>();
      std::shared_ptr<State> state = it->second;
      ++state->refs;

      if (created) {
        if (leader) *leader = true;
        lock.unlock();
        return lead(key, state, stop, work);
      }
      if (leader) *leader = false;
      auto result = follow(lock, state, stop, observe);
      if (!result && result.error().code == Errc::Canceled && state->abandoned &&
          !stop.stop_requested())
        continue;  // joined a flight everyone else had left: start a fresh one
      return result;
    }
  }

  // Number of flights in progress (for tests and metrics).
  size_t in_flight() const {
    std::lock_guard lock(mu_);
    return flights_.size();
  }
  // Callers (leader included) still interested in the flight for `key`; 0 when none runs.
  int callers(const std::string& key) const {
    std::lock_guard lock(mu_);
    auto it = flights_.find(key);
    return it == flights_.end() ? 0 : it->second->refs;
  }

 private:
  struct State {
    int refs = 0;
    bool abandoned = false;  // refs dropped to 0 before completion: the work is being stopped
    bool done = false;
    std::optional<Result<T>> result;
    std::optional<S> status;
    uint64_t version = 0;
    std::stop_source stop;
  };

  // Withdraws one caller; the last one out stops the work. Caller holds mu_.
  void withdraw(State& state) {
    if (--state.refs == 0 && !state.done) {
      state.abandoned = true;
      state.stop.request_stop();
    }
  }

  Result<T> lead(const std::string& key, const std::shared_ptr<State>& state, std::stop_token stop,
                 const Work& work) {
    bool withdrawn = false;
    {
      // Runs on the thread that requests the stop; takes mu_ (never held by request_stop's
      // callers here: they are other threads' stop sources).
      std::stop_callback on_stop(stop, [&] {
        std::lock_guard lock(mu_);
        if (!withdrawn) {
          withdrawn = true;
          withdraw(*state);
        }
      });
      Publisher publisher(*this, *state);
      Result<T> result = work(state->stop.get_token(), publisher);
      std::lock_guard lock(mu_);
      state->result = result;
      state->done = true;
      if (!withdrawn) {
        withdrawn = true;
        --state->refs;
      }
      flights_.erase(key);
    }
    cv_.notify_all();
    return *state->result;
  }

  Result<T> follow(std::unique_lock<std::mutex>& lock, const std::shared_ptr<State>& state,
                   std::stop_token stop, const Observe& observe) {
    uint64_t seen = 0;
    for (;;) {
      const bool woke = cv_.wait(lock, stop, [&] { return state->done || state->version != seen; });
      if (!woke) {
        withdraw(*state);
        return fail(Errc::Canceled, "canceled while waiting for a download in progress");
      }
      if (state->version != seen) {
        seen = state->version;
        if (observe && state->status) {
          S status = *state->status;
          lock.unlock();
          observe(status);
          lock.lock();
          continue;  // done may have become true meanwhile: report the last status first
        }
      }
      if (state->done) {
        --state->refs;
        return *state->result;
      }
    }
  }

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::unordered_map<std::string, std::shared_ptr<State>> flights_;  // guarded by mu_
};

}  // namespace imaged::images
