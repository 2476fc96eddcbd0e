#include "api/push_route.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stop_token>
#include <thread>

#include "api/http_status.h"
#include "api/json_stream.h"
#include "api/progress_json.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "common/reference.h"
#include "common/remotes/auth_config.h"

namespace imaged::api {

void handle_image_push(const PushFn& push, Request& request, ResponseWriter& writer) {
  auto repo = Reference::parse(request.param("name"));
  if (!repo) {
    writer.json_text(400, error_body(repo.error().message));
    return;
  }
  images::PushRequest push_request{.repo = repo->without_tag_or_digest()};
  std::string tag = request.query.value("tag");
  // dockerd: a tag in the name counts when the query has none.
  if (tag.empty() && repo->tag()) tag = *repo->tag();
  if (!tag.empty()) {
    if (!is_valid_tag(tag)) {
      writer.json_text(400, error_body("invalid tag format"));
      return;
    }
    push_request.tag = tag;
  }
  if (auto auth = request.header("X-Registry-Auth"))
    push_request.auth = remotes::decode_registry_auth(*auth);

  std::stop_source stop;
  push_request.stop = stop.get_token();
  std::jthread watcher([&writer, &stop](std::stop_token done) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (!writer.canceled()) {
      if (cv.wait_for(lock, done, std::chrono::milliseconds(100), [] { return false; }) ||
          done.stop_requested())
        return;
    }
    stop.request_stop();
  });

  JsonStream stream(writer);
  push_request.on_pushed = [&stream](const std::string& t, const Digest& digest, int64_t size) {
    nlohmann::ordered_json aux;
    aux["Tag"] = t;
    aux["Digest"] = digest.str();
    aux["Size"] = size;
    nlohmann::ordered_json line;
    line["progressDetail"] = nlohmann::ordered_json::object();
    line["aux"] = aux;
    return stream.send(line);
  };
  const Status st = push(push_request, [&stream](const images::Progress& p) {
    return stream.send(progress_message(p));
  });
  watcher.request_stop();
  watcher.join();
  if (!st && !stream.begun()) {
    // Push errors are always in-stream (dockerd writes its first line before failing).
    stream.send_error(st.error().message);
    stream.finish();
    return;
  }
  stream.finish(st);
}

void register_push_routes(Router& router, PushFn push) {
  router.add(Method::Post, "/images/{name:.*}/push",
             [push = std::move(push)](Request& request, ResponseWriter& writer) {
               handle_image_push(push, request, writer);
             });
}

}  // namespace imaged::api
