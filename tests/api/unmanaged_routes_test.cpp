// What imaged answers for the objects it does not manage (containers, networks, volumes, build
// cache, plugins): empty lists, zero-work prunes, 404 for named objects, 501 for creation.
#include "api/unmanaged_routes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/api/route_call.h"

using imaged::api::Method;
using imaged::api::Router;
using imaged::api::testing::call_route;
using nlohmann::json;

namespace {

Router routes() {
  Router r;
  imaged::api::register_unmanaged_routes(r);
  return r;
}

}  // namespace

TEST_CASE("unmanaged routes: lists are empty and prunes remove nothing", "[api]") {
  const Router r = routes();
  auto ps = call_route(r, Method::Get, "/v1.41/containers/json?all=1");
  CHECK(ps.status == 200);
  CHECK(ps.content_type == "application/json");
  CHECK(ps.body == "[]\n");
  CHECK(call_route(r, Method::Get, "/networks").body == "[]\n");
  CHECK(json::parse(call_route(r, Method::Get, "/volumes").body) ==
        json{{"Volumes", json::array()}, {"Warnings", nullptr}});
  CHECK(json::parse(call_route(r, Method::Post, "/v1.50/containers/prune").body) ==
        json{{"ContainersDeleted", nullptr}, {"SpaceReclaimed", 0}});
  CHECK(json::parse(call_route(r, Method::Post, "/networks/prune").body) ==
        json{{"NetworksDeleted", nullptr}});
  CHECK(json::parse(call_route(r, Method::Post, "/volumes/prune").body) ==
        json{{"VolumesDeleted", nullptr}, {"SpaceReclaimed", 0}});
  CHECK(json::parse(call_route(r, Method::Post, "/build/prune?all=1").body) ==
        json{{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}});
}

TEST_CASE("unmanaged routes: named objects are 404 with dockerd's messages", "[api]") {
  const Router r = routes();
  auto c = call_route(r, Method::Get, "/v1.41/containers/busybox:media/json");
  CHECK(c.status == 404);
  CHECK(c.body == "{\"message\":\"No such container: busybox:media\"}\n");
  CHECK(call_route(r, Method::Get, "/containers/reg:5000/a/b/json").body ==
        "{\"message\":\"No such container: reg:5000/a/b\"}\n");
  for (auto [method, target] : {std::pair{Method::Delete, "/containers/web?force=1"},
                                {Method::Post, "/containers/web/stop"},
                                {Method::Post, "/containers/web/wait?condition=removed"},
                                {Method::Get, "/containers/web/logs?stdout=1"}}) {
    auto w = call_route(r, method, target);
    INFO(target);
    CHECK(w.status == 404);
    CHECK(w.body == "{\"message\":\"No such container: web\"}\n");
  }
  CHECK(call_route(r, Method::Get, "/networks/x").body ==
        "{\"message\":\"network x not found\"}\n");
  CHECK(call_route(r, Method::Get, "/volumes/x").body ==
        "{\"message\":\"get x: no such volume\"}\n");
  CHECK(call_route(r, Method::Get, "/plugins/x/json").status == 404);
}

TEST_CASE("unmanaged routes: creating a container is 501, not a 404 that makes docker run pull",
          "[api]") {
  auto w = call_route(routes(), Method::Post, "/v1.41/containers/create?name=x");
  CHECK(w.status == 501);
  CHECK(json::parse(w.body)["message"].get<std::string>().starts_with(
      "imaged manages images only and cannot create containers"));
}
