#include "api/unmanaged_routes.h"

#include <nlohmann/json.hpp>
#include <string>

#include "api/router.h"

namespace imaged::api {

namespace {

using nlohmann::json;

Handler answer(json body) {
  return [body = std::move(body)](Request&, ResponseWriter& w) { w.json(200, body); };
}

Handler not_found(std::string prefix, std::string param, std::string suffix = "") {
  return [=](Request& r, ResponseWriter& w) {
    w.error(Error{Errc::NotFound, prefix + std::string(r.param(param)) + suffix});
  };
}

}  // namespace

void register_unmanaged_routes(Router& router) {
  // Lists and prunes: literal routes, matched before the patterns below.
  router.add(Method::Get, "/networks", answer(json::array()));
  router.add(Method::Get, "/volumes", answer({{"Volumes", json::array()}, {"Warnings", nullptr}}));
  router.add(Method::Post, "/networks/prune", answer({{"NetworksDeleted", nullptr}}));
  router.add(Method::Post, "/volumes/prune",
             answer({{"VolumesDeleted", nullptr}, {"SpaceReclaimed", 0}}));
  router.add(Method::Post, "/build/prune",
             answer({{"CachesDeleted", nullptr}, {"SpaceReclaimed", 0}}));
  // Named objects.
  router.add(Method::Get, "/networks/{id:.+}", not_found("network ", "id", " not found"));
  router.add(Method::Get, "/volumes/{name:.+}", not_found("get ", "name", ": no such volume"));
  router.add(Method::Get, "/plugins/{name:.*}/json",
             not_found("plugin \"", "name", "\" not found"));
}

}  // namespace imaged::api
