// POST /images/{name}/push?tag=: `docker push` (engine-api.md §2). The name arrives unescaped
// ("127.0.0.1:5000/team/busybox"); tag empty means every tag of the repository.
//
// Answer: always 200 application/json, chunked ("\r\n" lines): the first line is "The push
// refers to repository [...]", per-layer progress, "<tag>: digest: ... size: N" and the aux line
// {"progressDetail":{},"aux":{"Tag","Digest","Size"}}; every error is the in-stream
// {"errorDetail":...} line, as dockerd. Only a malformed name or tag (before any line) is a
// plain 400. X-Registry-Auth is decoded and passed on, never logged. A client that goes away
// stops the push.
#pragma once

#include <functional>

#include "common/error.h"
#include "common/images/pusher.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

using PushFn = std::function<Status(const images::PushRequest&, const images::ProgressSink&)>;

void register_push_routes(Router& router, PushFn push);
void handle_image_push(const PushFn& push, Request& request, ResponseWriter& writer);

}  // namespace imaged::api
