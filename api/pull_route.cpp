#include "api/pull_route.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
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

int pull_error_status(Errc code) {
  switch (code) {
    case Errc::InvalidArgument:
    case Errc::NotFound:
    case Errc::Unauthenticated:
    case Errc::PermissionDenied:
    case Errc::Unimplemented:
      return http_status(code);
    default:
      return 500;
  }
}

namespace {

// The reference to pull from fromImage and tag, as dockerd's PullImage builds it.
Result<Reference> pull_reference(std::string image, const std::string& tag) {
  // "pull -a" may send a trailing ':'.
  if (image.ends_with(':')) image.pop_back();
  Reference ref = IMAGED_TRY(Reference::parse(image));
  if (!tag.empty()) {
    // The tag may be a digest.
    if (auto digest = Digest::parse(tag)) return ref.without_tag_or_digest().with_digest(*digest);
    return ref.with_checked_tag(tag);
  }
  if (!ref.tag() && !ref.digest())
    return fail(Errc::Unimplemented,
                "pulling all tags of a repository (docker pull --all-tags) is not supported yet; "
                "name a tag or a digest");
  return ref;
}

void answer_error(ResponseWriter& writer, const Error& err) {
  writer.json_text(pull_error_status(err.code), error_body(err.message));
}

}  // namespace

void handle_images_create(const PullFn& pull, Request& request, ResponseWriter& writer) {
  const std::string from_image = request.query.value("fromImage");
  if (from_image.empty())
    return answer_error(writer, Error{Errc::Unimplemented, "import is not supported yet"});

  auto ref = pull_reference(from_image, request.query.value("tag"));
  if (!ref) return answer_error(writer, ref.error());
  images::PullRequest pull_request{.ref = std::move(*ref)};
  if (auto p = request.query.value("platform"); !p.empty()) {
    auto platform = oci::Platform::parse(p);
    if (!platform) return answer_error(writer, platform.error());
    pull_request.platform = std::move(*platform);
  }
  if (auto auth = request.header("X-Registry-Auth"))
    pull_request.auth = remotes::decode_registry_auth(*auth);

  // The client going away stops the pull: the session notices a closed socket on its own, and
  // this watcher turns that into the request's stop token. on_interrupt() wakes it at once (it
  // fires once, also for a graceful stop, during which a pull goes on); the 100 ms poll covers
  // the rest.
  std::stop_source stop;
  pull_request.stop = stop.get_token();
  std::mutex mu;
  std::condition_variable_any cv;
  auto interrupt = writer.on_interrupt([&] {
    std::lock_guard lock(mu);
    cv.notify_all();
  });
  std::jthread watcher([&](std::stop_token done) {
    std::unique_lock lock(mu);
    while (!writer.canceled()) {
      cv.wait_for(lock, done, std::chrono::milliseconds(100), [&] { return writer.canceled(); });
      if (done.stop_requested()) return;
    }
    stop.request_stop();
  });

  JsonStream stream(writer);
  const Status st = pull(pull_request, [&stream](const images::Progress& p) {
    return stream.send(progress_message(p));
  });
  watcher.request_stop();
  watcher.join();
  interrupt.reset();
  if (!st && !stream.begun()) return answer_error(writer, st.error());
  stream.finish(st);
}

void register_pull_routes(Router& router, PullFn pull) {
  router.add(Method::Post, "/images/create",
             [pull = std::move(pull)](Request& request, ResponseWriter& writer) {
               handle_images_create(pull, request, writer);
             });
}

}  // namespace imaged::api
