// Routes for end-to-end tests only, registered when IMAGED_TEST_ROUTES=1 is in the daemon's
// environment (never in production units):
//   POST /_test/sleep?ms=N  logs "test route: sleeping N ms", answers after N ms (at most 30 s),
//                           so that tests can hold a request in flight (graceful shutdown);
//   POST /_test/echo        reads the whole body (no size limit; chunked is fine) and answers
//                           {"bytes":N}.
#pragma once

namespace imaged::api {
class Router;
}

namespace imaged::daemon {

void register_test_routes(api::Router& router);

}  // namespace imaged::daemon
