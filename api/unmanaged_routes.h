// The Engine API objects imaged does not manage — networks, volumes, the build cache and
// plugins — answered the way a dockerd that has none of them would, so that the docker CLI's
// everyday commands and CI clean-up scripts behave:
//   - lists are empty: GET /networks → [], /volumes → {"Volumes":[]} (`docker network ls`,
//     `docker volume ls`);
//   - prunes remove nothing: POST /networks/prune, /volumes/prune, /build/prune
//     (`docker system prune -f` → "Total reclaimed space: 0B" with no containers);
//   - a named object is 404 with dockerd's message: GET /networks/{id}, /volumes/{name},
//     /plugins/{name}/json (`docker inspect` probes them before giving up).
#pragma once

namespace imaged::api {

class Router;

void register_unmanaged_routes(Router& router);

}  // namespace imaged::api
