// The Engine API objects imaged does not manage — containers, networks, volumes, the build cache
// and plugins — answered the way a dockerd that has none of them would, so that the docker
// CLI's everyday commands and CI clean-up scripts behave:
//   - lists are empty: GET /containers/json → [], /networks → [], /volumes → {"Volumes":[]}
//     (`docker ps`, `docker network ls`, `docker volume ls`);
//   - prunes remove nothing: POST /containers/prune, /networks/prune, /volumes/prune,
//     /build/prune (`docker system prune -f` → "Total reclaimed space: 0B");
//   - a named object is 404 with dockerd's message: any request under /containers/{name}
//     ("No such container: x": `docker rm`, `docker stop`, and `docker inspect`, which probes
//     containers before images), GET /networks/{id}, /volumes/{name}, /plugins/{name}/json;
//   - creating a container is 501 with a message saying why: a 404 would make `docker run`
//     believe the image is missing and pull it, then fail with "page not found".
#pragma once

namespace imaged::api {

class Router;

void register_unmanaged_routes(Router& router);

}  // namespace imaged::api
