#include "api/load_route.h"

#include <nlohmann/json.hpp>

#include "api/json_stream.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"

namespace imaged::api {

void handle_images_load(images::ImageLoader& loader, Request& request, ResponseWriter& writer) {
  BodyReader& body = *request.body;
  auto lines = loader.load([&body](std::span<char> buf) { return body.read(buf); });
  JsonStream stream(writer);
  if (!lines) {
    drain_body(body);
    stream.send_error(lines.error().message);
    stream.finish();
    return;
  }
  for (const std::string& line : *lines) {
    nlohmann::ordered_json m;
    m["stream"] = line + "\n";
    if (!stream.send(m)) return;
  }
  stream.finish();
}

void register_load_routes(Router& router, images::ImageLoader& loader) {
  router.add(
      Method::Post, "/images/load",
      [&loader](Request& request, ResponseWriter& writer) {
        handle_images_load(loader, request, writer);
      },
      RouteOptions{.body_limit = kUnlimitedBody});
}

}  // namespace imaged::api
