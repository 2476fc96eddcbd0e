#include "common/images/event_log.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "common/metadata/metadata_store.h"
#include "common/reference.h"

namespace imaged::images {

namespace {

// ---- filters (moby's filters.Args semantics) ---------------------------------------------------

using Values = std::set<std::string>;

const Values* values_of(const EventFilter& f, std::string_view key) {
  auto it = f.fields.find(key);
  return it == f.fields.end() || it->second.empty() ? nullptr : &it->second;
}

// ExactMatch: true when the key is absent or has the value.
bool exact_match(const EventFilter& f, std::string_view key, std::string_view value) {
  const Values* v = values_of(f, key);
  return !v || v->contains(std::string(value));
}

// FuzzyMatch: ExactMatch, or a value that is a prefix of `source`.
bool fuzzy_match(const EventFilter& f, std::string_view key, std::string_view source) {
  const Values* v = values_of(f, key);
  if (!v || v->contains(std::string(source))) return true;
  return std::any_of(v->begin(), v->end(),
                     [&](const std::string& prefix) { return source.starts_with(prefix); });
}

std::string attribute(const Event& e, const std::string& key) {
  auto it = e.attributes.find(key);
  return it == e.attributes.end() ? std::string() : it->second;
}

bool fuzzy_match_name(const EventFilter& f, const Event& e, std::string_view key) {
  return fuzzy_match(f, key, e.actor_id) || fuzzy_match(f, key, attribute(e, "name"));
}

// MatchKVList("label", attributes): every "k" / "k=v" value present in the attributes.
bool match_labels(const EventFilter& f, const std::map<std::string, std::string>& attrs) {
  const Values* v = values_of(f, "label");
  if (!v) return true;
  if (attrs.empty()) return false;
  for (const std::string& item : *v) {
    auto eq = item.find('=');
    auto it = attrs.find(item.substr(0, eq));
    if (it == attrs.end()) return false;
    if (eq != std::string::npos && it->second != item.substr(eq + 1)) return false;
  }
  return true;
}

std::string strip_tag(const std::string& image) {
  auto ref = Reference::parse(image);
  return ref ? ref->familiar_name() : image;
}

bool match_image(const EventFilter& f, const Event& e) {
  if (!values_of(f, "image")) return true;
  const std::string name = attribute(e, e.type == "image" ? "name" : "image");
  return exact_match(f, "image", e.actor_id) || exact_match(f, "image", name) ||
         exact_match(f, "image", strip_tag(e.actor_id)) || exact_match(f, "image", strip_tag(name));
}

bool match_event(const EventFilter& f, const Event& e) {
  const Values* v = values_of(f, "event");
  if (!v) return true;
  // moby #25798: these container actions carry a suffix ("exec_start: sh").
  for (const char* fuzzy : {"health_status", "exec_create", "exec_start"})
    if (v->contains(fuzzy)) return fuzzy_match(f, "event", e.action);
  return v->contains(e.action);
}

// ---- records ----------------------------------------------------------------------------------

metadata::EventRecord to_record(const Event& e) {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [k, v] : e.attributes) attrs[k] = v;
  return metadata::EventRecord{0, e.time_ns, e.type, e.action, e.actor_id, attrs.dump()};
}

Event from_record(const metadata::EventRecord& r) {
  Event e;
  e.id = r.id;
  e.time_ns = r.time_ns;
  e.type = r.type;
  e.action = r.action;
  e.actor_id = r.actor_id;
  auto attrs = nlohmann::json::parse(r.attributes_json, nullptr, /*allow_exceptions=*/false);
  if (attrs.is_object())
    for (auto it = attrs.begin(); it != attrs.end(); ++it)
      if (it->is_string()) e.attributes[it.key()] = it->get<std::string>();
  return e;
}

// The id of the newest event (0 when there is none), found with O(log n) probes of the primary
// key: events_after(x, 1) is non-empty exactly when x < max id.
Result<int64_t> max_event_id(const metadata::ReadTx& tx) {
  auto exists_after = [&](int64_t x) -> Result<bool> {
    return !IMAGED_TRY(tx.events_after(x, 1)).empty();
  };
  if (!IMAGED_TRY(exists_after(0))) return int64_t{0};
  int64_t lo = 0, hi = 1;  // invariant: max > lo
  while (IMAGED_TRY(exists_after(hi))) {
    lo = hi;
    if (hi > (INT64_MAX >> 1)) {
      hi = INT64_MAX;
      break;
    }
    hi *= 2;
  }
  // max in (lo, hi]
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (IMAGED_TRY(exists_after(mid)))
      lo = mid;
    else
      hi = mid;
  }
  return hi;
}

constexpr int64_t kPage = 1000;

// Events in [since, until] matching `filter`, oldest first, at most `limit`; paged so that a
// selective filter over a long log does not load it all at once.
Result<std::vector<Event>> replay(const metadata::ReadTx& tx, int64_t since_ns, int64_t until_ns,
                                  const EventFilter& filter, int64_t limit) {
  std::vector<Event> out;
  int64_t from = since_ns;
  int64_t last_id = 0;  // events at `from` with id <= last_id were already seen
  while (static_cast<int64_t>(out.size()) < limit) {
    auto page = IMAGED_TRY(tx.events(from, until_ns, kPage));
    bool progressed = false;
    for (const auto& r : page) {
      if (r.time_ns == from && r.id <= last_id) continue;
      progressed = true;
      Event e = from_record(r);
      if (filter.matches(e)) out.push_back(std::move(e));
      if (static_cast<int64_t>(out.size()) >= limit) break;
    }
    if (static_cast<int64_t>(page.size()) < kPage || page.empty()) break;
    if (!progressed) {
      // A whole page of one instant already seen: more than kPage events share a time_ns.
      // Step past it (cannot happen with ns clocks in practice).
      ++from;
      last_id = 0;
      continue;
    }
    from = page.back().time_ns;
    last_id = 0;
    for (const auto& r : page)
      if (r.time_ns == from) last_id = std::max(last_id, r.id);
  }
  return out;
}

}  // namespace

Event image_event(std::string action, std::string image_id, std::string name,
                  const std::string& labels_json) {
  Event e;
  e.action = std::move(action);
  e.actor_id = std::move(image_id);
  if (labels_json != "{}" && !labels_json.empty()) {
    auto labels = nlohmann::json::parse(labels_json, nullptr, /*allow_exceptions=*/false);
    if (labels.is_object())
      for (auto it = labels.begin(); it != labels.end(); ++it)
        if (it->is_string()) e.attributes[it.key()] = it->get<std::string>();
  }
  e.attributes["name"] = std::move(name);
  return e;
}

const std::vector<std::string_view>& EventFilter::known_keys() {
  static const std::vector<std::string_view> keys = {
      "config", "container", "daemon", "event",  "image",   "label", "network",
      "node",   "plugin",    "scope",  "secret", "service", "type",  "volume"};
  return keys;
}

bool EventFilter::matches(const Event& e) const {
  return match_event(*this, e) && exact_match(*this, "type", e.type) &&
         exact_match(*this, "scope", "local") && fuzzy_match_name(*this, e, "daemon") &&
         fuzzy_match_name(*this, e, "container") && fuzzy_match_name(*this, e, "plugin") &&
         fuzzy_match_name(*this, e, "volume") && fuzzy_match_name(*this, e, "network") &&
         match_image(*this, e) && fuzzy_match_name(*this, e, "node") &&
         fuzzy_match_name(*this, e, "service") && fuzzy_match_name(*this, e, "secret") &&
         fuzzy_match_name(*this, e, "config") && match_labels(*this, e.attributes);
}

EventLog::EventLog(metadata::MetadataStore& store, EventLogOptions options)
    : store_(store), options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return std::chrono::system_clock::now(); };
}

EventLog::~EventLog() { shutdown(); }

int64_t EventLog::now_ns() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(options_.clock().time_since_epoch())
      .count();
}

Result<Event> EventLog::append(metadata::WriteTx& tx, Event event) {
  if (event.time_ns == 0) event.time_ns = now_ns();
  event.id = IMAGED_TRY(tx.append_event(to_record(event)));
  return event;
}

void EventLog::notify() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

Result<Event> EventLog::append(Event event) {
  auto stored = store_.write([&](metadata::WriteTx& tx) { return append(tx, event); });
  if (stored) notify();
  return stored;
}

Result<std::vector<Event>> EventLog::query(int64_t since_ns, int64_t until_ns,
                                           const EventFilter& filter) {
  return store_.read([&](metadata::ReadTx& tx) {
    return replay(tx, since_ns, until_ns, filter, options_.replay_limit);
  });
}

Result<EventLog::Follow> EventLog::follow(bool with_replay, int64_t since_ns, int64_t until_ns,
                                          EventFilter filter) {
  struct Snapshot {
    std::vector<Event> events;
    int64_t cursor = 0;
  };
  auto snap = IMAGED_TRY(store_.read([&](metadata::ReadTx& tx) -> Result<Snapshot> {
    Snapshot s;
    s.cursor = IMAGED_TRY(max_event_id(tx));
    if (with_replay)
      s.events = IMAGED_TRY(replay(tx, since_ns, until_ns, filter, options_.replay_limit));
    return s;
  }));
  return Follow{std::move(snap.events), Subscription(*this, std::move(filter), snap.cursor)};
}

void EventLog::shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  cv_.notify_all();
}

Result<std::vector<Event>> EventLog::Subscription::wait(
    std::chrono::steady_clock::time_point deadline, const std::function<bool()>& canceled) {
  EventLog& log = *log_;
  uint64_t seen_generation;
  {
    std::lock_guard lock(log.mu_);
    seen_generation = log.generation_;
  }
  while (true) {
    // 1. Whatever committed after the cursor (also found without a notify: polling).
    auto records = IMAGED_TRY(
        log.store_.read([&](metadata::ReadTx& tx) { return tx.events_after(cursor_, kPage); }));
    std::vector<Event> out;
    for (const auto& r : records) {
      cursor_ = std::max(cursor_, r.id);
      Event e = from_record(r);
      if (filter_.matches(e)) out.push_back(std::move(e));
    }
    if (!out.empty()) return out;
    if (static_cast<int64_t>(records.size()) == kPage) continue;  // more pages, none matched
    // 2. Wait for a notify, the deadline, shutdown or a poll tick.
    if (canceled && canceled()) return out;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return out;
    std::unique_lock lock(log.mu_);
    if (log.shutdown_) return fail(Errc::Canceled, "the event log is shutting down");
    log.cv_.wait_until(lock, std::min(deadline, now + kPollInterval),
                       [&] { return log.shutdown_ || log.generation_ != seen_generation; });
    if (log.shutdown_) return fail(Errc::Canceled, "the event log is shutting down");
    seen_generation = log.generation_;
  }
}

}  // namespace imaged::images
