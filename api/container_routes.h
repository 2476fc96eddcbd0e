// Container routes of the Engine API, what `docker run/create/start/attach/wait/logs/ps/stop/
// kill/rm/container prune` and the SDKs' containers.run() use (engine-api.md §4):
//   POST   /containers/create              201 {"Id","Warnings"}; 404 No such image (the CLI
//                                          pulls and retries)
//   GET    /containers/json                list (all, limit, filters id/name/status/label/
//                                          exited/ancestor)
//   GET    /containers/{name}/json         inspect
//   POST   /containers/{name}/start        204, 304 when running
//   POST   /containers/{name}/attach       101 Upgrade: tcp, then the raw or multiplexed stream
//                                          (stdin copied when the container has OpenStdin)
//   POST   /containers/{name}/wait         headers flushed at once, then {"Error","StatusCode"}
//                                          (condition not-running | next-exit | removed)
//   GET    /containers/{name}/logs         kept output (follow, stdout, stderr, timestamps,
//                                          tail, since, until)
//   POST   /containers/{name}/stop|restart|kill|resize
//   DELETE /containers/{name}              force
//   POST   /containers/prune
// Any other container action is 501 for an existing container and 404 otherwise.
//
// Lifetime: the services must outlive the router's use.
#pragma once

namespace imaged::containers {
class ContainerService;
}
namespace imaged::images {
class ImageService;
}

namespace imaged::api {

class Router;

void register_container_routes(Router& router, containers::ContainerService& containers,
                               images::ImageService& images);

}  // namespace imaged::api
