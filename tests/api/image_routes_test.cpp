// The image routes through the Router with a real store (no sockets): status codes, messages and
// JSON shapes per API version. The same routes are exercised through a running daemon with curl
// in tests/api/image_routes_daemon_test.cpp.
#include "api/image_routes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/recording_writer.h"
#include "api/request.h"
#include "api/router.h"
#include "tests/api/route_call.h"
#include "tests/common/images/images_test_util.h"
#include "tests/support/process.h"

#include <atomic>
#include <mutex>
#include <thread>

using namespace imaged;
using namespace imaged::api;
using namespace imaged::images::testing;
using nlohmann::json;

namespace {

struct Api {
  StoreFixture store;
  Router router;
  Api() { register_image_routes(router, store.service(), store.events()); }

  // One request: "GET", "/v1.41/images/json?all=1".
  RecordingWriter call(Method method, const std::string& target) {
    return imaged::api::testing::call_route(router, method, target);
  }
  json get(const std::string& target, int want = 200) {
    auto w = call(Method::Get, target);
    INFO(target << " → " << w.status << " " << w.body);
    REQUIRE(w.status == want);
    REQUIRE(w.content_type == "application/json");
    return json::parse(w.body);
  }
};

// Keys in document order (nlohmann::json sorts; the raw text keeps the order).
std::vector<std::string> ordered_keys(const std::string& text) {
  auto j = nlohmann::ordered_json::parse(text);
  const auto& obj = j.is_array() ? j.at(0) : j;
  std::vector<std::string> out;
  for (auto it = obj.begin(); it != obj.end(); ++it) out.push_back(it.key());
  return out;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("images/json: fields, order and version gates", "[images][api]") {
  Api api;
  auto img = api.store.import(simple({"busybox:musl", "busybox:media"}));
  auto w = api.call(Method::Get, "/v1.41/images/json");
  CHECK(ordered_keys(w.body) == Strings{"Containers", "Created", "Id", "Labels", "ParentId",
                                        "RepoDigests", "RepoTags", "SharedSize", "Size",
                                        "VirtualSize"});
  auto v41 = json::parse(w.body);
  REQUIRE(v41.size() == 1);
  CHECK(v41[0]["Id"] == img.id);
  CHECK(v41[0]["RepoTags"] == json{"busybox:media", "busybox:musl"});
  CHECK(v41[0]["RepoDigests"] == json{"busybox@" + img.manifest_digest});
  CHECK(v41[0]["Containers"] == -1);
  CHECK(v41[0]["SharedSize"] == -1);
  CHECK(v41[0]["VirtualSize"] == img.size);
  CHECK(v41[0]["Labels"].is_null());
  CHECK(v41[0]["ParentId"] == "");
  CHECK(v41[0]["Created"] == 1704067200);

  auto v44 = api.get("/v1.44/images/json");
  CHECK_FALSE(v44[0].contains("VirtualSize"));
  auto v50 = api.get("/v1.50/images/json?shared-size=1");
  CHECK(v50[0]["SharedSize"] == 0);
  CHECK(v50[0]["Containers"] == -1);
  // shared-size does not exist before 1.42.
  CHECK(api.get("/v1.41/images/json?shared-size=1")[0]["SharedSize"] == -1);
}

TEST_CASE("images/json: untagged images below and from 1.43", "[images][api]") {
  Api api;
  api.store.import(simple({}));
  auto old = api.get("/v1.41/images/json");
  CHECK(old[0]["RepoTags"] == json{"<none>:<none>"});
  CHECK(old[0]["RepoDigests"] == json{"<none>@<none>"});
  auto w = api.call(Method::Get, "/v1.41/images/json");
  CHECK_THAT(w.body, Catch::Contains("\\u003cnone\\u003e:\\u003cnone\\u003e"));  // Go escaping
  auto now = api.get("/v1.43/images/json");
  CHECK(now[0]["RepoTags"] == json::array());
  CHECK(now[0]["RepoDigests"] == json::array());
}

TEST_CASE("images/json: reference filter narrows, as the CLI sends it", "[images][api]") {
  Api api;
  api.store.import(simple({"busybox:musl", "busybox:media"}));
  auto exact = api.get(
      "/v1.41/images/json?filters=%7B%22reference%22%3A%7B%22busybox%3Amusl%22%3Atrue%7D%7D");
  CHECK(exact[0]["RepoTags"] == json{"busybox:musl"});
  CHECK(exact[0]["RepoDigests"].is_null());  // 20.10 at 1.41
  auto exact43 = api.get("/v1.43/images/json?filters={\"reference\":{\"busybox:musl\":true}}");
  CHECK(exact43[0]["RepoDigests"] == json::array());
  auto legacy = api.get("/v1.41/images/json?filters={\"reference\":[\"busy*\"]}");
  CHECK(legacy[0]["RepoTags"].size() == 2);
  CHECK(api.get("/v1.41/images/json?filters={\"reference\":{\"nosuch\":true}}") == json::array());
  // The legacy `filter` parameter counts only below 1.41.
  CHECK(api.get("/v1.40/images/json?filter=nosuch") == json::array());
  CHECK(api.get("/v1.41/images/json?filter=nosuch").size() == 1);
}

TEST_CASE("images/json: filter errors", "[images][api]") {
  Api api;
  api.store.import(simple({"busybox:musl"}));
  auto bogus = api.get("/images/json?filters={\"bogus\":{\"x\":true}}", 400);
  CHECK(bogus["message"] == "Invalid filter 'bogus'");
  auto dangling = api.get("/images/json?filters={\"dangling\":{\"maybe\":true}}", 400);
  CHECK(dangling["message"] == "Invalid filter 'dangling=[maybe]'");
  auto since = api.get("/images/json?filters={\"since\":{\"nosuch\":true}}", 404);
  CHECK(since["message"] == "No such image: nosuch:latest");
  auto until = api.get("/images/json?filters={\"until\":{\"soon\":true}}", 400);
  CHECK(until["message"] == "failed to parse value as time or duration: \"soon\"");
  CHECK(api.get("/images/json?filters={\"until\":{\"1h\":true}}").size() == 1);
  CHECK(api.get("/images/json?filters={\"dangling\":{\"true\":true}}") == json::array());
}

TEST_CASE("images/{name}/json: inspect shapes per version", "[images][api]") {
  Api api;
  ImageSpec spec = simple({"busybox:musl", "busybox:media"});
  spec.created = "2024-01-01T00:00:00.48066205Z";
  auto img = api.store.import(spec);
  auto w = api.call(Method::Get, "/v1.41/images/busybox:media/json");
  REQUIRE(w.status == 200);
  CHECK(ordered_keys(w.body) == Strings{"Id", "RepoTags", "RepoDigests", "Parent", "Comment",
                                        "Created", "Container", "ContainerConfig", "DockerVersion",
                                        "Author", "Config", "Architecture", "Os", "Size",
                                        "VirtualSize", "GraphDriver", "RootFS", "Metadata"});
  auto j = json::parse(w.body);
  CHECK(j["Id"] == img.id);
  CHECK(j["Created"] == "2024-01-01T00:00:00.48066205Z");
  CHECK(j["RepoTags"] == json{"busybox:media", "busybox:musl"});
  CHECK(j["Config"]["Cmd"] == json{"sh"});
  CHECK(j["Config"]["Hostname"] == "");
  CHECK(j["Config"]["Entrypoint"].is_null());
  CHECK(j["ContainerConfig"]["Cmd"].is_null());  // zero-valued shape, as dockerd
  CHECK(j["RootFS"] == json{{"Type", "layers"}, {"Layers", img.diff_ids}});
  CHECK(j["GraphDriver"]["Name"] == "imaged");
  CHECK(j["Metadata"]["LastTagTime"] != "0001-01-01T00:00:00Z");
  auto cfg_keys = ordered_keys(nlohmann::ordered_json::parse(w.body)["Config"].dump());
  CHECK(cfg_keys == Strings{"Hostname", "Domainname", "User", "AttachStdin", "AttachStdout",
                            "AttachStderr", "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Image",
                            "Volumes", "WorkingDir", "Entrypoint", "OnBuild", "Labels"});

  auto v44 = api.get("/v1.44/images/busybox:musl/json");
  CHECK_FALSE(v44.contains("VirtualSize"));
  CHECK(v44.contains("Container"));
  auto v45 = api.get("/v1.45/images/busybox:musl/json");
  CHECK_FALSE(v45.contains("Container"));
  CHECK_FALSE(v45.contains("ContainerConfig"));
  auto v50 = api.get("/v1.50/images/" + img.short_id() + "/json");
  CHECK_FALSE(v50["Config"].contains("Hostname"));
  CHECK_FALSE(v50["Config"].contains("Image"));
  CHECK(v50["Config"].contains("Env"));
  CHECK(api.get("/images/" + img.id + "/json")["Id"] == img.id);
  CHECK(api.get("/images/busybox@" + img.manifest_digest + "/json")["Id"] == img.id);
  CHECK(api.get("/images/docker.io/library/busybox:musl/json")["Id"] == img.id);
}

TEST_CASE("images/{name}/json: errors", "[images][api]") {
  Api api;
  auto img = api.store.import(simple({"busybox:musl"}));
  CHECK(api.get("/images/nosuch/json", 404)["message"] == "No such image: nosuch:latest");
  CHECK(api.get("/images/" + img.manifest_digest + "/json", 404)["message"] ==
        "No such image: " + img.manifest_digest);
  auto bad = api.get("/images/BusyBox/json", 400);
  CHECK_THAT(bad["message"].get<std::string>(), Catch::Contains("must be lowercase"));
}

TEST_CASE("images/{name}/history: dockerd's rows", "[images][api]") {
  Api api;
  auto img = api.store.import(simple({"busybox:musl"}));
  auto w = api.call(Method::Get, "/v1.41/images/busybox:musl/history");
  REQUIRE(w.status == 200);
  CHECK(ordered_keys(w.body) == Strings{"Comment", "Created", "CreatedBy", "Id", "Size", "Tags"});
  auto j = json::parse(w.body);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["Id"] == img.id);
  CHECK(j[0]["Tags"] == json{"busybox:musl"});
  CHECK(j[0]["Size"] == 0);
  CHECK(j[1]["Id"] == "<missing>");
  CHECK(j[1]["Tags"].is_null());
  CHECK(j[1]["Size"] == img.size);
  CHECK(api.get("/images/nosuch/history", 404)["message"] == "No such image: nosuch:latest");
}

TEST_CASE("images/{name}/tag: 201 and dockerd's refusals", "[images][api]") {
  Api api;
  auto img = api.store.import(simple({"busybox:musl"}));
  auto w = api.call(Method::Post,
                    "/v1.41/images/busybox:musl/tag?repo=docker.io%2Flibrary%2Fbusybox&tag=media");
  CHECK(w.status == 201);
  CHECK(w.body.empty());
  CHECK(api.call(Method::Post, "/images/" + img.short_id() + "/tag?repo=busybox:zz").status == 201);
  CHECK(api.call(Method::Post, "/images/" + img.id + "/tag?repo=busybox").status == 201);
  auto tags = api.get("/images/json")[0]["RepoTags"];
  CHECK(tags == json{"busybox:latest", "busybox:media", "busybox:musl", "busybox:zz"});

  auto status_message = [&](const std::string& target) {
    auto r = api.call(Method::Post, target);
    return std::pair{r.status, r.status == 201 ? std::string()
                                               : json::parse(r.body)["message"].get<std::string>()};
  };
  CHECK(status_message("/images/nosuch/tag?repo=busybox&tag=x") ==
        std::pair{404, std::string("No such image: nosuch:latest")});
  CHECK(status_message("/images/busybox:musl/tag?repo=busybox&tag=Bad%20Tag!") ==
        std::pair{400, std::string("invalid tag format")});
  CHECK(status_message("/images/busybox:musl/tag?repo=&tag=x") ==
        std::pair{400, std::string("invalid reference format")});
  CHECK(status_message("/images/busybox:musl/tag?repo=busybox%40" + img.manifest_digest) ==
        std::pair{400, std::string("refusing to create a tag with a digest reference")});
  CHECK(status_message("/images/busybox:musl/tag?repo=sha256&tag=x") ==
        std::pair{400, std::string(
                           "refusing to create an ambiguous tag using digest algorithm as name")});
  auto upper = status_message("/images/busybox:musl/tag?repo=BusyBox&tag=x");
  CHECK(upper.first == 400);
  CHECK_THAT(upper.second, Catch::Contains("must be lowercase"));
}

TEST_CASE("DELETE /images/{name}: rmi answers", "[images][api]") {
  Api api;
  auto img = api.store.import(simple({"busybox:musl", "busybox:media"}));
  auto del = [&](const std::string& target, int want) {
    auto w = api.call(Method::Delete, target);
    INFO(target << " → " << w.body);
    REQUIRE(w.status == want);
    return json::parse(w.body);
  };
  CHECK(del("/v1.41/images/busybox:media", 200) ==
        json::parse(R"([{"Untagged":"busybox:media"}])"));
  CHECK(del("/images/nosuch:tag", 404)["message"] == "No such image: nosuch:tag");
  CHECK(del("/images/%20", 400)["message"] == "image name cannot be blank");
  CHECK(del("/images/", 400)["message"] == "image name cannot be blank");
  api.store.service().tag("busybox:musl", Reference::parse("other:1").value()).value();
  CHECK(del("/images/" + img.short_id(), 409)["message"] ==
        "conflict: unable to delete " + img.short_id() +
            " (must be forced) - image is referenced in multiple repositories");
  // docker-py sends force=False: that is false.
  CHECK(del("/images/" + img.short_id() + "?force=False&noprune=False", 409).contains("message"));
  auto forced = del("/images/" + img.short_id() + "?force=1", 200);
  // busybox:musl, busybox@digest, other:1 (tagged here, so no digest ref), then the deletes.
  REQUIRE(forced.size() == 5);
  CHECK(forced[2] == json{{"Untagged", "other:1"}});
  CHECK(forced[3] == json{{"Deleted", img.id}});
  CHECK(forced[4] == json{{"Deleted", img.chain_ids()[0]}});
  CHECK_FALSE(api.store.has_blob(img.layer_digests[0]));
}

TEST_CASE("POST /images/prune: report shape and filters", "[images][api]") {
  Api api;
  auto none = api.call(Method::Post, "/v1.41/images/prune?filters={\"dangling\":{\"true\":true}}");
  REQUIRE(none.status == 200);
  CHECK(none.body == "{\"ImagesDeleted\":null,\"SpaceReclaimed\":0}\n");
  auto bare = api.store.import(simple({}));
  auto r = api.call(Method::Post, "/images/prune");
  REQUIRE(r.status == 200);
  auto j = json::parse(r.body);
  CHECK(j["ImagesDeleted"][0] == json{{"Deleted", bare.id}});
  CHECK(j["SpaceReclaimed"] == bare.size);
  auto bad = api.call(Method::Post, "/images/prune?filters={\"reference\":{\"x\":true}}");
  CHECK(bad.status == 400);
  CHECK(json::parse(bad.body)["message"] == "Invalid filter 'reference'");
  auto until =
      api.call(Method::Post,
               "/images/prune?filters={\"dangling\":{\"false\":true},\"until\":{\"1h\":true}}");
  CHECK(until.status == 200);
}

TEST_CASE("GET /system/df: one entry per image, layers counted once", "[images][api]") {
  Api api;
  ImageSpec a;
  a.layers = {LayerSpec{"base", 1000}, LayerSpec{"a", 10}};
  a.tags = {"a:1", "a:2"};
  api.store.import(a);
  ImageSpec b;
  b.layers = {LayerSpec{"base", 1000}, LayerSpec{"b", 20}};
  b.tags = {"b:1"};
  api.store.import(b);
  auto w = api.call(Method::Get, "/v1.41/system/df");
  REQUIRE(w.status == 200);
  CHECK(ordered_keys(w.body) ==
        Strings{"LayersSize", "Images", "Containers", "Volumes", "BuildCache", "BuilderSize"});
  auto j = json::parse(w.body);
  CHECK(j["LayersSize"] == 1030);
  CHECK(j["Images"].size() == 2);
  CHECK(j["Images"][0]["Containers"] == 0);
  CHECK(j["Images"][0]["SharedSize"] == 1000);
  CHECK(j["Containers"] == json::array());
  CHECK(j["BuildCache"].is_null());
  auto images_only = api.get("/v1.42/system/df?type=image");
  CHECK(images_only["Containers"].is_null());
  CHECK(images_only["Images"].size() == 2);
  CHECK(api.get("/v1.42/system/df?type=bogus", 400)["message"] == "unknown object type: bogus");
}

TEST_CASE("GET /events: replay with since/until, legacy fields by version", "[images][api]") {
  Api api;
  api.store.import(simple({"busybox:musl"}));
  api.store.service().tag("busybox:musl", Reference::parse("busybox:media").value()).value();
  const auto now = std::chrono::system_clock::now();
  const auto secs =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const std::string range =
      "since=" + std::to_string(secs - 60) + "&until=" + std::to_string(secs + 1);
  // `until` one second ahead: the stream ends by itself.
  auto w = api.call(Method::Get, "/v1.41/events?" + range);
  REQUIRE(w.status == 200);
  CHECK(w.content_type == "application/json");
  CHECK(w.streaming);
  CHECK(w.ended);
  REQUIRE(w.chunks.size() >= 1);
  auto e = nlohmann::ordered_json::parse(w.chunks[0]);
  CHECK(w.chunks[0].back() == '\n');
  CHECK(ordered_keys(w.chunks[0]) ==
        Strings{"status", "id", "Type", "Action", "Actor", "scope", "time", "timeNano"});
  CHECK(e["Action"] == "tag");
  CHECK(e["status"] == "tag");
  CHECK(e["Actor"]["Attributes"]["name"] == "busybox:media");
  CHECK(e["scope"] == "local");
  CHECK(e["time"] == e["timeNano"].get<int64_t>() / 1000000000);

  auto filtered =
      api.call(Method::Get, "/v1.41/events?" + range + "&filters={\"event\":{\"untag\":true}}");
  CHECK(filtered.body.empty());
  auto bad = api.call(
      Method::Get, "/events?since=" + std::to_string(secs) + "&until=" + std::to_string(secs - 10));
  CHECK(bad.status == 400);
  CHECK_THAT(json::parse(bad.body)["message"].get<std::string>(),
             Catch::StartsWith("`since` time"));
  CHECK(api.call(Method::Get, "/events?since=abc").status == 400);
  CHECK(api.call(Method::Get, "/events?filters={\"bogus\":{\"x\":true}}").status == 400);
}

// A thread-safe writer for the live-stream test (the handler runs on another thread).
class LockedWriter final : public ResponseWriter {
 public:
  void add_header(std::string, std::string) override {}
  bool send(int st, std::string_view, std::string b) override {
    std::lock_guard l(mu_);
    status_ = st;
    chunks_.push_back(std::move(b));
    return true;
  }
  bool begin_stream(int st, std::string_view ct) override {
    std::lock_guard l(mu_);
    status_ = st;
    stream_content_type_ = std::string(ct);
    return true;
  }
  bool write(std::string_view d) override {
    std::lock_guard l(mu_);
    chunks_.emplace_back(d);
    return !gone_;
  }
  bool end() override { return true; }
  void abort() override {}
  bool started() const override {
    std::lock_guard l(mu_);
    return status_ != 0;
  }
  bool canceled() const override {
    std::lock_guard l(mu_);
    return gone_;
  }
  bool stopping() const override {
    std::lock_guard l(mu_);
    return stopping_;
  }
  InterruptHandle on_interrupt(std::function<void()> fn) override {
    std::lock_guard l(mu_);
    interrupt_ = std::move(fn);
    return nullptr;
  }
  void leave() {
    std::lock_guard l(mu_);
    gone_ = true;
  }
  // The daemon begins a graceful stop: stopping() turns true and the interrupt hook fires.
  void stop() {
    std::function<void()> fn;
    {
      std::lock_guard l(mu_);
      stopping_ = true;
      fn = interrupt_;
    }
    if (fn) fn();
  }
  std::vector<std::string> chunks() const {
    std::lock_guard l(mu_);
    return chunks_;
  }

 private:
  mutable std::mutex mu_;
  int status_ = 0;
  bool gone_ = false;
  bool stopping_ = false;
  std::function<void()> interrupt_;
  std::vector<std::string> chunks_;
};

TEST_CASE("GET /events: headers first, then live events, ended by the client", "[images][api]") {
  Api api;
  api.store.import(simple({"busybox:musl"}));
  LockedWriter w;
  auto m = api.router.resolve(Method::Get, "/v1.41/events");
  Request req;
  req.version = m.version;
  StringBodyReader body;
  req.body = &body;
  std::thread handler([&] { m.handler(req, w); });
  // Headers go out at once, before any event.
  REQUIRE(imaged::testing::wait_until([&] { return w.started(); }, std::chrono::seconds(10)));
  CHECK(w.chunks().empty());
  api.store.service().tag("busybox:musl", Reference::parse("busybox:live").value()).value();
  REQUIRE(
      imaged::testing::wait_until([&] { return !w.chunks().empty(); }, std::chrono::seconds(10)));
  w.leave();
  handler.join();
  CHECK(json::parse(w.chunks()[0])["Actor"]["Attributes"]["name"] == "busybox:live");
}

TEST_CASE("GET /events: a graceful stop ends the stream at once", "[images][api]") {
  Api api;
  LockedWriter w;
  auto m = api.router.resolve(Method::Get, "/v1.41/events");
  Request req;
  req.version = m.version;
  StringBodyReader body;
  req.body = &body;
  std::atomic<bool> done{false};
  std::thread handler([&] {
    m.handler(req, w);
    done = true;
  });
  REQUIRE(imaged::testing::wait_until([&] { return w.started(); }, std::chrono::seconds(10)));
  w.stop();  // without it the stream (no `until`) would go on forever
  REQUIRE(imaged::testing::wait_until([&] { return done.load(); }, std::chrono::seconds(10)));
  handler.join();
}
