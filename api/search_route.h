// GET /images/search?term=&limit=&filters=: `docker search` (engine-api.md §2).
//
//  - term: "busybox" (Docker Hub) or "<host>/<term>" when the first path element looks like a
//    registry host (has '.' or ':' or is "localhost"), as moby's splitReposSearchTerm.
//  - Registries with the v1 search API are proxied (RegistryClient::search_v1). Others (a plain
//    registry:2) are searched through GET /v2/_catalog: repositories whose name contains the
//    term, reported as {name "<host>/<repo>", description "", star_count 0, is_official false,
//    is_automated false}.
//  - limit: 1..100, default 25; anything else 400. filters: is-official, is-automated (booleans)
//    and stars (minimum star count); unknown keys or bad values 400.
//  - X-Registry-Auth is passed to the registry. Registry errors: 401/403 as such, else 500.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/registry_client.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

// What the route needs of a registry client (the real one in the daemon, fakes in tests).
struct SearchBackend {
  std::function<Result<std::vector<remotes::SearchResult>>(
      std::string_view registry, std::string_view term, int limit, const remotes::AuthConfig&)>
      search_v1;
  std::function<Result<std::vector<std::string>>(std::string_view registry,
                                                 const remotes::AuthConfig&)>
      catalog;
};

SearchBackend search_backend(remotes::RegistryClient& client);
void register_search_routes(Router& router, SearchBackend backend);
void handle_images_search(const SearchBackend& backend, Request& request, ResponseWriter& writer);

}  // namespace imaged::api
