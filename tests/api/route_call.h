// Calls a route through a Router without sockets, as the server would: the target's path picks
// the route (and its /vX.Y prefix the version), its query string is parsed, the body is empty.
#pragma once

#include <string>

#include "api/recording_writer.h"
#include "api/request.h"
#include "api/router.h"

namespace imaged::api::testing {

// One request: call_route(router, Method::Get, "/v1.41/images/json?all=1").
RecordingWriter call_route(const Router& router, Method method, const std::string& target);

}  // namespace imaged::api::testing
