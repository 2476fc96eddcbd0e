// docker exec (moby's exec routes):
//   POST /containers/{name}/exec   201 {"Id"}; 409 when the container is not running
//   POST /exec/{id}/start          {"Detach","Tty","ConsoleSize"}: 101 Upgrade: tcp then the
//                                  process's streams (as attach); Detach: 200 at once
//   GET  /exec/{id}/json           Running, ExitCode (the CLI exits with it), ProcessConfig, ...
//   POST /exec/{id}/resize         ?h=&w=
// Register before the container catch-all of container_routes.h (routes match in order).
#pragma once

namespace imaged::containers {
class ContainerService;
}

namespace imaged::api {

class Router;

void register_exec_routes(Router& router, containers::ContainerService& containers);

}  // namespace imaged::api
