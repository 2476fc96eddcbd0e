// Pushes to the real registry (tests/harness) what was pulled from it, and pulls it back.
#include "common/images/pusher.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/images/event_log.h"
#include "tests/common/images/pull_env.h"
#include "tests/support/registry.h"

using namespace imaged;
using namespace imaged::testing;
using nlohmann::json;

namespace {

json image_of(const std::string& summary, size_t i = 0) {
  return json::parse(summary)["images"][i];
}

struct PushOutcome {
  Status status;
  std::vector<images::Progress> lines;
  std::vector<std::tuple<std::string, std::string, int64_t>> aux;
  bool has(const std::string& status) const {
    for (const auto& l : lines)
      if (l.status == status) return true;
    return false;
  }
  std::string text() const {
    std::string out;
    for (const auto& l : lines) out += (l.id.empty() ? "" : l.id + ": ") + l.status + "\n";
    return out;
  }
};

// A Pusher over a PullEnv's store.
struct PushBench {
  PullEnv env;
  remotes::NoCredentials credentials;
  remotes::RegistryClient client{PullEnvOptions::fast_client(), credentials};
  images::Pusher pusher{env.content(), env.content(), env.metadata(), client, env.events()};

  void tag(const std::string& repository, const std::string& tag, const std::string& id) {
    REQUIRE(env.metadata().write(
        [&](metadata::WriteTx& tx) { return tx.set_tag(repository, tag, id, 1); }));
  }

  PushOutcome push(const std::string& repo, std::optional<std::string> tag,
                   remotes::AuthConfig auth = {}) {
    PushOutcome out;
    images::PushRequest req{
        .repo = Reference::parse(repo).value(), .tag = std::move(tag), .auth = std::move(auth)};
    req.on_pushed = [&out](const std::string& t, const Digest& d, int64_t size) {
      out.aux.emplace_back(t, d.str(), size);
      return true;
    };
    out.status = pusher.push(req, [&out](const images::Progress& p) {
      out.lines.push_back(p);
      return true;
    });
    return out;
  }
};

}  // namespace

TEST_CASE("push: byte-exact round trip to another registry, then 'Layer already exists'",
          "[push]") {
  TestRegistry src;
  TestRegistry dst;
  const json img = image_of(push_fixture(src, "seed"));
  const std::string id = img["config_digest"];
  const std::string manifest = img["manifest_digest"];
  PushBench bench;
  REQUIRE(bench.env.pull(src.host() + "/library/busybox:musl").status);
  const std::string target = dst.host() + "/team/busybox";
  bench.tag(target, "media", id);

  auto out = bench.push(target, "media");
  INFO(out.text());
  REQUIRE(out.status);
  REQUIRE(!out.lines.empty());
  CHECK(out.lines[0].status == "The push refers to repository [" + target + "]");
  CHECK(out.lines[0].message);
  CHECK(out.has("Preparing"));
  CHECK(out.has("Pushing"));
  CHECK(out.has("Pushed"));
  // The progress id is the short diff_id.
  CHECK(out.lines[1].id == "3015f4f74b09");
  CHECK(out.lines.back().status == "media: digest: " + manifest + " size: " +
                                       std::to_string(img["manifest_size"].get<int64_t>()));
  REQUIRE(out.aux.size() == 1);
  CHECK(std::get<1>(out.aux[0]) == manifest);

  // The repo digest and the push event are recorded.
  CHECK(bench.env.digest_target(target, manifest) == id);
  auto events = bench.env.events().query(0, INT64_MAX, {}).value();
  REQUIRE(!events.empty());
  CHECK(events.back().action == "push");
  CHECK(events.back().actor_id == target + ":media");
  CHECK(events.back().attributes.at("name") == target);

  // Pulled back into a fresh store: same image ID, same manifest digest.
  PullEnv fresh;
  REQUIRE(fresh.pull(target + ":media").status);
  CHECK(fresh.tag_target(target, "media") == id);
  CHECK(fresh.digest_target(target, manifest) == id);

  auto again = bench.push(target, "media");
  INFO(again.text());
  REQUIRE(again.status);
  CHECK(again.has("Layer already exists"));
  CHECK_FALSE(again.has("Pushed"));
}

TEST_CASE("push: a layer known under another repository of the registry is mounted", "[push]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  PushBench bench;
  REQUIRE(bench.env.pull(reg.host() + "/library/busybox:musl").status);
  const std::string target = reg.host() + "/team/busybox";
  bench.tag(target, "m", img["config_digest"]);
  auto out = bench.push(target, "m");
  INFO(out.text());
  REQUIRE(out.status);
  CHECK(out.has("Mounted from library/busybox"));
  CHECK_FALSE(out.has("Pushed"));
}

TEST_CASE("push: no tag pushes every tag of the repository", "[push]") {
  TestRegistry reg;
  const json img = image_of(push_fixture(reg, "seed"));
  PushBench bench;
  REQUIRE(bench.env.pull(reg.host() + "/library/busybox:musl").status);
  const std::string target = reg.host() + "/all/busybox";
  bench.tag(target, "a", img["config_digest"]);
  bench.tag(target, "b", img["config_digest"]);
  auto out = bench.push(target, std::nullopt);
  INFO(out.text());
  REQUIRE(out.status);
  REQUIRE(out.aux.size() == 2);
  CHECK(std::get<0>(out.aux[0]) == "a");
  CHECK(std::get<0>(out.aux[1]) == "b");
}

TEST_CASE("push: an unknown tag fails after the first line", "[push]") {
  TestRegistry reg;
  PushBench bench;
  auto out = bench.push(reg.host() + "/none/x", "nosuch");
  REQUIRE_FALSE(out.status);
  CHECK(out.status.error().code == Errc::NotFound);
  CHECK(out.status.error().message ==
        "An image does not exist locally with the tag: " + reg.host() + "/none/x");
  REQUIRE(out.lines.size() == 1);
  auto all = bench.push(reg.host() + "/none/x", std::nullopt);
  REQUIRE_FALSE(all.status);
  CHECK(all.status.error().message ==
        "An image does not exist locally with the tag: " + reg.host() + "/none/x");
}

TEST_CASE("push: an htpasswd registry needs the credentials and names itself when refused",
          "[push]") {
  TestRegistry src;
  TestRegistry reg({.user = "alice", .password = "s3cret"});
  const json img = image_of(push_fixture(src, "seed"));
  PushBench bench;
  REQUIRE(bench.env.pull(src.host() + "/library/busybox:musl").status);
  const std::string target = reg.host() + "/team/busybox";
  bench.tag(target, "media", img["config_digest"]);

  auto denied = bench.push(target, "media");
  REQUIRE_FALSE(denied.status);
  CHECK(denied.status.error().code == Errc::Unauthenticated);
  CHECK(denied.status.error().message.find(reg.host()) != std::string::npos);

  remotes::AuthConfig auth{.username = "alice", .password = "s3cret"};
  auto out = bench.push(target, "media", auth);
  INFO(out.text());
  REQUIRE(out.status);
  CHECK(out.has("Pushed"));
}
