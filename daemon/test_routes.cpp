#include "daemon/test_routes.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/router.h"

namespace imaged::daemon {

void register_test_routes(api::Router& router) {
  router.add(api::Method::Post, "/_test/sleep", [](api::Request& req, api::ResponseWriter& w) {
    auto ms = req.query.get_int("ms");
    if (!ms) return (void)w.error(ms.error());
    auto wait = std::clamp<std::int64_t>(ms->value_or(0), 0, 30000);
    spdlog::info("test route: sleeping {} ms", wait);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    w.json(200, nlohmann::json{{"slept_ms", wait}});
  });
  router.add(
      api::Method::Post, "/_test/echo",
      [](api::Request& req, api::ResponseWriter& w) {
        std::uint64_t total = 0;
        char buf[65536];
        for (;;) {
          auto n = req.body->read(buf);
          if (!n) return (void)w.error(n.error());
          if (*n == 0) break;
          total += *n;
        }
        w.json(200, nlohmann::json{{"bytes", total}});
      },
      api::RouteOptions{.body_limit = api::kUnlimitedBody});
}

}  // namespace imaged::daemon
