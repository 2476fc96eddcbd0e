#include "common/images/event_log.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <future>
#include <thread>

#include "common/metadata/metadata_store.h"
#include "tests/common/images/images_test_util.h"

using namespace imaged;
using namespace imaged::images;
using namespace imaged::images::testing;
using namespace std::chrono_literals;

namespace {

Event image_ev(std::string action, std::string id, std::string name) {
  return image_event(std::move(action), std::move(id), std::move(name));
}

EventFilter filter(std::initializer_list<std::pair<std::string, std::string>> items) {
  EventFilter f;
  for (const auto& [k, v] : items) f.fields[k].insert(v);
  return f;
}

std::vector<std::string> actions(const std::vector<Event>& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("events: append persists with time and id, query by range", "[images]") {
  auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  StoreFixture f([&] { return t; });
  auto& log = f.events();
  auto a = must(log.append(image_ev("pull", "busybox:musl", "busybox")));
  t += 10s;
  auto b = must(log.append(image_ev("tag", "sha256:x", "busybox:media")));
  CHECK(a.time_ns == 1'700'000'000'000'000'000);
  CHECK(b.id > a.id);
  CHECK(actions(must(log.query(0, INT64_MAX, {}))) == std::vector<std::string>{"pull", "tag"});
  CHECK(actions(must(log.query(b.time_ns, INT64_MAX, {}))) == std::vector<std::string>{"tag"});
  CHECK(actions(must(log.query(0, a.time_ns, {}))) == std::vector<std::string>{"pull"});
  // Survives a new log over the same store.
  EventLog other(f.metadata());
  CHECK(must(other.query(0, INT64_MAX, {})).size() == 2);
}

TEST_CASE("events: filters as dockerd's (type, event, image, label, scope)", "[images]") {
  StoreFixture f;
  auto& log = f.events();
  must(log.append(image_ev("pull", "busybox:musl", "busybox")));
  must(log.append(image_ev("tag", "sha256:abc", "busybox:media")));
  Event labelled = image_event("untag", "sha256:def", "sha256:def", R"({"team":"x"})");
  must(log.append(labelled));
  must(log.append(image_ev("delete", "sha256:def", "sha256:def")));

  auto q = [&](EventFilter fl) { return actions(must(log.query(0, INT64_MAX, fl))); };
  using V = std::vector<std::string>;
  CHECK(q(filter({{"type", "image"}})).size() == 4);
  CHECK(q(filter({{"type", "container"}})).empty());
  CHECK(q(filter({{"event", "tag"}})) == V{"tag"});
  CHECK(q(filter({{"event", "tag"}, {"event", "delete"}})) == V{"tag", "delete"});
  CHECK(q(filter({{"event", "tag"}, {"type", "image"}})) == V{"tag"});
  // image: the actor ID, the name attribute, or either without its tag.
  CHECK(q(filter({{"image", "busybox"}})) == V{"pull", "tag"});
  CHECK(q(filter({{"image", "busybox:media"}})) == V{"tag"});
  CHECK(q(filter({{"image", "sha256:def"}})) == V{"untag", "delete"});
  CHECK(q(filter({{"label", "team"}})) == V{"untag"});
  CHECK(q(filter({{"label", "team=x"}})) == V{"untag"});
  CHECK(q(filter({{"label", "team=y"}})).empty());
  CHECK(q(filter({{"scope", "local"}})).size() == 4);
  CHECK(q(filter({{"scope", "swarm"}})).empty());
  CHECK(q(filter({{"container", "abc"}})).empty());
}

TEST_CASE("events: follow replays then delivers live events without gaps", "[images]") {
  StoreFixture f;
  auto& log = f.events();
  must(log.append(image_ev("pull", "busybox:musl", "busybox")));
  auto follow = must(log.follow(true, 0, INT64_MAX, EventFilter{}));
  CHECK(actions(follow.replay) == std::vector<std::string>{"pull"});
  // Nothing new: wait returns at the deadline with nothing.
  CHECK(must(follow.live.wait(std::chrono::steady_clock::now() + 50ms)).empty());
  // An event from another thread wakes the waiter.
  auto waiter = std::async(std::launch::async, [&] {
    return must(follow.live.wait(std::chrono::steady_clock::now() + 20s));
  });
  std::this_thread::yield();
  must(log.append(image_ev("tag", "sha256:abc", "busybox:media")));
  auto got = waiter.get();
  REQUIRE(got.size() == 1);
  CHECK(got[0].action == "tag");
  // Nothing is delivered twice.
  CHECK(must(follow.live.wait(std::chrono::steady_clock::now() + 10ms)).empty());
}

TEST_CASE("events: follow without replay starts after the present", "[images]") {
  StoreFixture f;
  auto& log = f.events();
  for (int i = 0; i < 5; ++i) must(log.append(image_ev("pull", "a:" + std::to_string(i), "a")));
  auto follow = must(log.follow(false, 0, 0, filter({{"event", "delete"}})));
  CHECK(follow.replay.empty());
  must(log.append(image_ev("tag", "sha256:abc", "a:b")));  // filtered out
  must(log.append(image_ev("delete", "sha256:abc", "sha256:abc")));
  auto got = must(follow.live.wait(std::chrono::steady_clock::now() + 5s));
  REQUIRE(got.size() == 1);
  CHECK(got[0].action == "delete");
}

TEST_CASE("events: image operations log their events in their transaction", "[images]") {
  StoreFixture f;
  auto follow = must(f.events().follow(false, 0, 0, EventFilter{}));
  auto img = f.import(simple({"busybox:musl"}));
  must(f.service().tag("busybox:musl", must(Reference::parse("busybox:media"))));
  must(f.service().remove("busybox:media", false, false));
  must(f.service().remove("busybox:musl", false, false));
  std::vector<Event> all;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (all.size() < 4 && std::chrono::steady_clock::now() < deadline) {
    auto got = must(follow.live.wait(deadline));
    all.insert(all.end(), got.begin(), got.end());
  }
  CHECK(actions(all) == std::vector<std::string>{"tag", "untag", "untag", "delete"});
  CHECK(all[0].attributes.at("name") == "busybox:media");
  CHECK(all[0].actor_id == img.id);
  CHECK(all[3].actor_id == img.id);
}

TEST_CASE("events: a failed operation logs nothing", "[images]") {
  StoreFixture f;
  auto img = f.import(simple({"busybox:musl", "other:1"}));
  CHECK_FALSE(f.service().remove(img.short_id(), false, false));  // 409
  CHECK_FALSE(f.service().tag("nosuch", must(Reference::parse("x:1"))));
  CHECK(must(f.events().query(0, INT64_MAX, {})).empty());
}

TEST_CASE("events: shutdown wakes waiters with Canceled", "[images]") {
  StoreFixture f;
  auto follow = must(f.events().follow(false, 0, 0, EventFilter{}));
  auto waiter = std::async(
      std::launch::async, [&] { return follow.live.wait(std::chrono::steady_clock::now() + 30s); });
  f.events().shutdown();
  auto r = waiter.get();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == Errc::Canceled);
}

TEST_CASE("events: canceled() ends a wait early", "[images]") {
  StoreFixture f;
  auto follow = must(f.events().follow(false, 0, 0, EventFilter{}));
  std::atomic<bool> gone{false};
  auto waiter = std::async(std::launch::async, [&] {
    return follow.live.wait(std::chrono::steady_clock::now() + 30s, [&] { return gone.load(); });
  });
  gone = true;
  const auto start = std::chrono::steady_clock::now();
  auto r = waiter.get();
  CHECK(r);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}
