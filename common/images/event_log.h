// EventLog: the image events behind GET /events, persisted in meta.db (metadata append_event) so
// that they survive restarts and can be replayed from any `since`.
//
// Writers: image operations append their events inside their own metadata write transaction
// (append(tx, …)) so that an event exists exactly when its change committed, and call notify()
// after the commit; append(event) is the stand-alone form (own transaction, notifies).
// Readers: query() replays a time range; follow() opens a live Subscription positioned after
// everything committed at that instant, together with the replay taken from the SAME snapshot,
// so nothing is lost or repeated between replay and live events.
//
// Event shape (dockerd): Type "image", Action, Actor{ID, Attributes}. The name attribute per
// action follows engine-api.md §3.8: tag → the new ref; untag/delete → the image ID; pull/push →
// the repo; prune → no ID, Attributes.reclaimed. Image labels are copied into the attributes as
// dockerd's LogImageEvent does.
//
// Thread safety: every method may be called from any thread. Subscription::wait blocks (worker
// threads only). Lifetime: the MetadataStore must outlive the log; subscriptions must not
// outlive the log.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/images/types.h"

namespace imaged::metadata {
class MetadataStore;
class WriteTx;
}  // namespace imaged::metadata

namespace imaged::images {

// moby's events filter (daemon/events/filter.go) over filters.Args: key → values. Keys:
// type, event, image, container, label, scope, daemon, network, volume, plugin, node, service,
// secret, config. AND between keys, OR between the values of one key.
struct EventFilter {
  std::map<std::string, std::set<std::string>, std::less<>> fields;

  bool matches(const Event& event) const;
  // The keys dockerd's events endpoint knows.
  static const std::vector<std::string_view>& known_keys();
};

// dockerd's LogImageEvent: Type "image", Actor.ID = image_id, Attributes = the image's labels
// (`labels_json`, a JSON object as stored in the image row) plus name = `name`.
Event image_event(std::string action, std::string image_id, std::string name,
                  const std::string& labels_json = "{}");

struct EventLogOptions {
  // "now" for event times. Default: system_clock::now. Tests pass a fake clock.
  std::function<std::chrono::system_clock::time_point()> clock;
  // Replays return at most this many events (the oldest ones in range first).
  int64_t replay_limit = 100'000;
};

class EventLog {
 public:
  explicit EventLog(metadata::MetadataStore& store, EventLogOptions options = {});
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  int64_t now_ns() const;

  // Appends in the caller's write transaction: sets time_ns (when 0) and id. Call notify() once
  // the transaction has committed (subscribers also find it on their next poll without it).
  Result<Event> append(metadata::WriteTx& tx, Event event);
  // Wakes subscribers after a commit that appended events.
  void notify();
  // Appends in its own transaction and notifies.
  Result<Event> append(Event event);

  // Events with since_ns <= time_ns <= until_ns matching `filter`, oldest first.
  Result<std::vector<Event>> query(int64_t since_ns, int64_t until_ns, const EventFilter& filter);

  class Subscription {
   public:
    // Blocks until there are new matching events, `deadline` passes or `canceled()` returns true
    // (polled at least every poll interval); returns the new events (possibly none). Errors:
    // Canceled once the log shuts down, store errors as they come.
    Result<std::vector<Event>> wait(std::chrono::steady_clock::time_point deadline,
                                    const std::function<bool()>& canceled = {});
    int64_t cursor() const { return cursor_; }

   private:
    friend class EventLog;
    Subscription(EventLog& log, EventFilter filter, int64_t cursor)
        : log_(&log), filter_(std::move(filter)), cursor_(cursor) {}
    EventLog* log_;
    EventFilter filter_;
    int64_t cursor_;  // id of the last event seen
  };

  struct Follow {
    std::vector<Event> replay;  // past events in [since, until] matching, oldest first
    Subscription live;          // events committed after the replay's snapshot
  };
  // Replays [since_ns, until_ns] (no replay at all when `replay` is false, as dockerd without
  // since/until) and subscribes from the same snapshot.
  Result<Follow> follow(bool replay, int64_t since_ns, int64_t until_ns, EventFilter filter);

  // Wakes every waiter; their wait() returns Canceled from now on.
  void shutdown();

  // How often a waiter re-checks canceled() and the store.
  static constexpr std::chrono::milliseconds kPollInterval{250};

 private:
  metadata::MetadataStore& store_;
  EventLogOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t generation_ = 0;  // bumped by notify(); guarded by mu_
  bool shutdown_ = false;    // guarded by mu_
};

}  // namespace imaged::images
