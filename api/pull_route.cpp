#include "api/pull_route.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
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
#include "common/remotes/transport.h"

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

// fromSrc=<url>: the response body, in an unnamed temporary file (moby downloads it with
// remotes.GetWithStatusError and streams it; a file keeps the importer's reads simple).
using TempFile = std::unique_ptr<std::FILE, int (*)(std::FILE*)>;

Result<TempFile> download(const std::string& url) {
  TempFile file(std::tmpfile(), &std::fclose);
  if (!file) return fail(Errc::Internal, "creating a temporary file for the download failed");
  remotes::Transport transport;
  remotes::ResponseHandler handler;
  handler.sink = [&file](std::span<const std::byte> bytes) -> Status {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size())
      return fail(Errc::Internal, "writing the download to a temporary file failed");
    return {};
  };
  auto response = transport.perform(remotes::HttpRequest{.url = url}, handler);
  if (!response) return fail(Errc::Internal, response.error().message);
  if (response->status < 200 || response->status > 299)
    return fail(Errc::Internal, "failed to GET " + url + " with status " +
                                    std::to_string(response->status) + ": " + response->body);
  std::rewind(file.get());
  return file;
}

// moby's ImportImage arguments: repo (+ tag), message, changes, platform.
Result<images::ImportRequest> import_request(const Request& request) {
  images::ImportRequest r;
  r.source = request.query.value("fromSrc");
  r.message = request.query.value("message");
  r.changes = request.query.get_all("changes");
  r.platform = oci::host_platform();
  if (auto p = request.query.value("platform"); !p.empty())
    r.platform = IMAGED_TRY(oci::Platform::parse(p));
  if (auto repo = request.query.value("repo"); !repo.empty()) {
    Reference ref = IMAGED_TRY(Reference::parse(repo));
    if (ref.digest()) return fail(Errc::InvalidArgument, "cannot import digest reference");
    if (auto tag = request.query.value("tag"); !tag.empty())
      ref = IMAGED_TRY(ref.with_checked_tag(tag));
    r.tag = std::move(ref);
  }
  return r;
}

void handle_images_import(const ImportFn& import, Request& request, ResponseWriter& writer) {
  auto import_req = import_request(request);
  if (!import_req) {
    drain_body(*request.body);
    return answer_error(writer, import_req.error());
  }
  JsonStream stream(writer);
  TempFile file(nullptr, &std::fclose);
  images::ByteSource source = [&request](std::span<char> buf) { return request.body->read(buf); };
  if (import_req->source != "-") {
    // A bare host[/path] is fetched over http, as dockerd does.
    std::string url = import_req->source;
    if (url.find("://") == std::string::npos) url = "http://" + url;
    nlohmann::ordered_json m;
    m["status"] = "Downloading from " + url;
    stream.send(m);
    auto downloaded = download(url);
    if (!downloaded) {
      stream.finish(fail(downloaded.error()));
      return;
    }
    file = std::move(*downloaded);
    source = [&file](std::span<char> buf) -> Result<size_t> {
      const size_t n = std::fread(buf.data(), 1, buf.size(), file.get());
      if (n == 0 && std::ferror(file.get()))
        return fail(Errc::Internal, "reading the downloaded file failed");
      return n;
    };
  }
  auto id = import(*import_req, source);
  if (!id) {
    if (import_req->source == "-") drain_body(*request.body);
    if (!stream.begun()) return answer_error(writer, id.error());
    stream.finish(fail(id.error()));
    return;
  }
  nlohmann::ordered_json m;
  m["status"] = id->str();
  stream.send(m);
  stream.finish();
}

void handle_images_create(const PullFn& pull, Request& request, ResponseWriter& writer,
                          const ImportFn& import) {
  const std::string from_image = request.query.value("fromImage");
  if (from_image.empty()) {
    if (!import)
      return answer_error(writer, Error{Errc::Unimplemented, "import is not supported yet"});
    return handle_images_import(import, request, writer);
  }

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

void register_pull_routes(Router& router, PullFn pull, ImportFn import) {
  router.add(
      Method::Post, "/images/create",
      [pull = std::move(pull), import = std::move(import)](Request& request,
                                                           ResponseWriter& writer) {
        handle_images_create(pull, request, writer, import);
      },
      RouteOptions{.body_limit = kUnlimitedBody});  // docker import streams the tarball
}

}  // namespace imaged::api
