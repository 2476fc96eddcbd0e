// GET /distribution/{name}/json: what the registry serves for a reference, without pulling it
// (moby's getDistributionInfo; `docker service create` pins digests with it). Answers 200
// {"Descriptor":{"mediaType","digest","size"},"Platforms":[{"architecture","os"[,"os.version",
// "os.features","variant"]}]|null} — see remotes::inspect_distribution for what is reported.
//
//  - API versions below 1.30: 400 "GET /distribution/{name:.*}/json requires minimum API
//    version 1.30" (current moby; 20.10 served any version).
//  - name: a reference as `docker pull` takes it. A full image ID (64 hex, or "sha256:<hex>"):
//    500 "no manifest found for full image ID"; a malformed one: 400 with the reference error.
//  - X-Registry-Auth: decoded and passed on (undecodable → anonymous); never logged.
//  - Errors: 400 invalid, 404 not in the registry ("manifest unknown: manifest unknown"), 401
//    unauthenticated, 403 denied, 429 rate limited, else 500 (unreachable registry, ...).
#pragma once

#include <functional>

#include "common/error.h"
#include "common/reference.h"
#include "common/remotes/auth_config.h"
#include "common/remotes/distribution_inspect.h"
#include "common/remotes/registry_client.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

// The registry lookup (remotes::inspect_distribution in the daemon; a fake in tests).
using DistributionInspectFn = std::function<Result<remotes::DistributionInfo>(
    const Reference& ref, const remotes::AuthConfig& auth)>;

// Registers GET /distribution/{name}/json. `inspect` is kept by the route.
void register_distribution_routes(Router& router, DistributionInspectFn inspect);
// The DistributionInspectFn over a registry client (which must outlive it).
DistributionInspectFn distribution_inspect_with(remotes::RegistryClient& client);
// The handler, for tests.
void handle_distribution_inspect(const DistributionInspectFn& inspect, Request& request,
                                 ResponseWriter& writer);

}  // namespace imaged::api
