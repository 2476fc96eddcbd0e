// POST /images/create: `docker pull` (fromImage) — engine-api.md §3.4.
//
//  - fromImage: the repository, possibly with its own tag or digest; a trailing ':' is tolerated
//    (what `docker pull -a` sends). tag: a tag or a digest ("sha256:..."), overriding fromImage's.
//    No tag anywhere means all tags (`docker pull --all-tags`): 501, not supported yet.
//  - platform: "os[/arch[/variant]]"; 400 when malformed.
//  - X-Registry-Auth: decoded (undecodable → anonymous) and passed on; never logged.
//  - fromSrc (import, when an ImportFn is given; 501 otherwise): "-" imports the request body, a
//    URL (or bare host/path: http) is downloaded first ({"status":"Downloading from <url>"}).
//    repo (+ tag; a digest is 400 "cannot import digest reference"), message, changes
//    (repeatable), platform. Answer: {"status":"sha256:<id>"}; errors before the first line are
//    HTTP errors (400 bad arguments, changes or tar; 500 otherwise).
// Answer: 200 application/json, chunked, one progress message per line ("\r\n"). An error before
// the first line is a plain HTTP error with dockerd's status (404 missing repository or
// manifest, 401 authentication, 403 denied, 400 bad reference or platform, 500 unreachable
// registry and everything else); after it, the in-stream {"errorDetail":...} line. A client that
// goes away stops the pull (shared downloads continue for other pulls).
#pragma once

#include <functional>

#include "common/error.h"
#include "common/images/image_importer.h"
#include "common/images/image_service.h"

namespace imaged::api {

class Router;
struct Request;
class ResponseWriter;

// The pull itself (ImageService::pull in the daemon; a fake in tests).
using PullFn = std::function<Status(const images::PullRequest&, const images::ProgressSink&)>;

// The import itself (ImageImporter::import in the daemon; a fake in tests).
using ImportFn =
    std::function<Result<Digest>(const images::ImportRequest&, const images::ByteSource&)>;

// Registers POST /images/create. `pull` and `import` must outlive the router's use.
void register_pull_routes(Router& router, PullFn pull, ImportFn import = {});

// The handler, for tests.
void handle_images_create(const PullFn& pull, Request& request, ResponseWriter& writer,
                          const ImportFn& import = {});

// The HTTP status of a pull error that happens before the stream starts (dockerd's mapping:
// transient and internal failures are 500, not 503).
int pull_error_status(Errc code);

}  // namespace imaged::api
