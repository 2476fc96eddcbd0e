// What imaged answers for the objects it does not manage (networks, volumes, build cache,
// plugins): empty lists, zero-work prunes, 404 for named objects.
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
  auto networks = call_route(r, Method::Get, "/v1.41/networks");
  CHECK(networks.status == 200);
  CHECK(networks.content_type == "application/json");
  CHECK(networks.body == "[]\n");
  CHECK(json::parse(call_route(r, Method::Get, "/volumes").body) ==
        json{{"Volumes", json::array()}, {"Warnings", nullptr}});
  CHECK(json::parse(call_route(r, Method::Post, "/networks/prune").body) ==
        json{{"NetworksDeleted", nullptr}});
  CHECK(json::parse(call_route(r, Method::Post, "/volumes/prune").body) ==
        json{{"VolumesDeleted", nullptr}, {"SpaceReclaimed", 0}});
  CHECK(json::parse(call_route(r, Method::Post, "/build/prune?all=1").body) ==
        json{{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}});
}

TEST_CASE("unmanaged routes: named objects are 404 with dockerd's messages", "[api]") {
  const Router r = routes();
  CHECK(call_route(r, Method::Get, "/networks/x").body ==
        "{\"message\":\"network x not found\"}\n");
  CHECK(call_route(r, Method::Get, "/volumes/x").body ==
        "{\"message\":\"get x: no such volume\"}\n");
  CHECK(call_route(r, Method::Get, "/plugins/x/json").status == 404);
}
