#include "api/pull_route.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/recording_writer.h"
#include "api/request.h"
#include "common/remotes/auth_config.h"

using namespace imaged;
using namespace imaged::api;

namespace {

struct Call {
  RecordingWriter writer;
  std::optional<images::PullRequest> seen;
};

// Runs POST /images/create?<query> against a fake pull.
void run(Call& c, const std::string& query, const PullFn& fake,
         std::optional<std::string> auth = std::nullopt) {
  StringBodyReader body;
  Request req;
  req.method = Method::Post;
  req.path = "/images/create";
  req.query = QueryParams::parse(query).value();
  if (auth) req.headers.add("X-Registry-Auth", *auth);
  req.body = &body;
  handle_images_create(
      [&](const images::PullRequest& r, const images::ProgressSink& sink) {
        c.seen = r;
        return fake(r, sink);
      },
      req, c.writer);
}

Status succeed(const images::PullRequest&, const images::ProgressSink& sink) {
  sink(images::Progress{.id = "musl", .status = "Pulling from library/busybox", .message = true});
  sink(images::Progress{.id = "959553dbaa9b", .status = "Pulling fs layer"});
  sink(images::Progress{.status = "Status: Downloaded newer image for busybox:musl",
                        .message = true});
  return {};
}

}  // namespace

TEST_CASE("a pull streams JSON lines ending in CRLF", "[pull][pull_route]") {
  Call c;
  run(c, "fromImage=docker.io%2Flibrary%2Fbusybox&tag=musl", succeed);
  REQUIRE(c.seen);
  CHECK(c.seen->ref.str() == "docker.io/library/busybox:musl");
  CHECK(c.writer.status == 200);
  CHECK(c.writer.content_type == "application/json");
  CHECK(c.writer.streaming);
  CHECK(c.writer.ended);
  CHECK(c.writer.body ==
        "{\"status\":\"Pulling from library/busybox\",\"id\":\"musl\"}\r\n"
        "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"959553dbaa9b\"}\r\n"
        "{\"status\":\"Status: Downloaded newer image for busybox:musl\"}\r\n");
}

TEST_CASE("tag may be a digest, fromImage may carry a tag, a trailing colon is tolerated",
          "[pull][pull_route]") {
  const std::string d = "sha256:" + std::string(64, 'a');
  Call a;
  run(a, "fromImage=busybox&tag=" + d, succeed);
  CHECK(a.seen->ref.str() == "docker.io/library/busybox@" + d);
  Call b;
  run(b, "fromImage=busybox:musl&tag=", succeed);
  CHECK(b.seen->ref.str() == "docker.io/library/busybox:musl");
  Call c;
  run(c, "fromImage=127.0.0.1:5000/x/y:&tag=t1", succeed);
  CHECK(c.seen->ref.str() == "127.0.0.1:5000/x/y:t1");
  Call e;
  run(e, "fromImage=busybox:old&tag=new", succeed);
  CHECK(e.seen->ref.str() == "docker.io/library/busybox:new");
}

TEST_CASE("platform and X-Registry-Auth reach the pull", "[pull][pull_route]") {
  Call c;
  remotes::AuthConfig auth{.username = "u", .password = "p", .server_address = "127.0.0.1:5000"};
  run(c, "fromImage=busybox&tag=musl&platform=linux%2Farm64", succeed,
      remotes::encode_registry_auth(auth));
  REQUIRE(c.seen->platform);
  CHECK(c.seen->platform->str() == "linux/arm64");
  CHECK(c.seen->auth.username == "u");
  CHECK(c.seen->auth.password == "p");
  Call junk;
  run(junk, "fromImage=busybox&tag=musl", succeed, "!!not base64!!");
  CHECK(junk.seen->auth.empty());
}

TEST_CASE("errors before the first line are plain HTTP errors", "[pull][pull_route]") {
  auto failing = [](Errc code, std::string msg) {
    return [=](const images::PullRequest&, const images::ProgressSink&) -> Status {
      return fail(code, msg);
    };
  };
  Call nf;
  run(nf, "fromImage=busybox&tag=nosuch",
      failing(Errc::NotFound,
              "manifest for busybox:nosuch not found: manifest unknown: manifest unknown"));
  CHECK(nf.writer.status == 404);
  CHECK(nf.writer.content_type == "application/json");
  CHECK(nf.writer.body ==
        "{\"message\":\"manifest for busybox:nosuch not found: manifest unknown: manifest "
        "unknown\"}\n");
  Call auth;
  run(auth, "fromImage=busybox&tag=x", failing(Errc::Unauthenticated, "unauthorized"));
  CHECK(auth.writer.status == 401);
  Call down;
  run(down, "fromImage=busybox&tag=x", failing(Errc::Unavailable, "connection refused"));
  CHECK(down.writer.status == 500);
}

TEST_CASE("errors after the first line go in-stream", "[pull][pull_route]") {
  Call c;
  run(c, "fromImage=busybox&tag=musl",
      [](const images::PullRequest&, const images::ProgressSink& sink) -> Status {
        sink(images::Progress{
            .id = "musl", .status = "Pulling from library/busybox", .message = true});
        return fail(Errc::FailedPrecondition,
                    "filesystem layer verification failed for digest sha256:x");
      });
  CHECK(c.writer.status == 200);
  CHECK(c.writer.ended);
  CHECK(c.writer.chunks.back() ==
        "{\"errorDetail\":{\"message\":\"filesystem layer verification failed for digest "
        "sha256:x\"},\"error\":\"filesystem layer verification failed for digest sha256:x\"}\r\n");
}

TEST_CASE("bad references, platforms, import and all-tags are refused up front",
          "[pull][pull_route]") {
  Call bad;
  run(bad, "fromImage=BusyBox&tag=x", succeed);
  CHECK(bad.writer.status == 400);
  CHECK_FALSE(bad.seen);
  Call plat;
  run(plat, "fromImage=busybox&tag=x&platform=linux%2F%2F", succeed);
  CHECK(plat.writer.status == 400);
  Call import;
  run(import, "fromSrc=-&repo=x", succeed);
  CHECK(import.writer.status == 501);
  CHECK(import.writer.body == "{\"message\":\"import is not supported yet\"}\n");
  Call all;
  run(all, "fromImage=busybox&tag=", succeed);
  CHECK(all.writer.status == 501);
  CHECK_FALSE(all.seen);
}

TEST_CASE("a client that goes away stops the pull", "[pull][pull_route]") {
  Call c;
  run(c, "fromImage=busybox&tag=musl",
      [&](const images::PullRequest& r, const images::ProgressSink&) -> Status {
        c.writer.cancel = true;
        for (int i = 0; i < 500 && !r.stop.stop_requested(); ++i)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        return r.stop.stop_requested() ? fail(Errc::Canceled, "gone") : Status{};
      });
  CHECK(c.seen->stop.stop_requested());
}

namespace {

// Runs POST /images/create?<query> with `body` against a fake import.
struct ImportCall {
  RecordingWriter writer;
  std::optional<images::ImportRequest> seen;
  std::string read;  // what the import read of the body
};

void run_import(ImportCall& c, const std::string& query, const std::string& body_text,
                std::function<Result<Digest>(const images::ImportRequest&)> fake) {
  StringBodyReader body(body_text);
  Request req;
  req.method = Method::Post;
  req.path = "/images/create";
  req.query = QueryParams::parse(query).value();
  req.body = &body;
  handle_images_create(
      [](const images::PullRequest&, const images::ProgressSink&) -> Status {
        FAIL("pulled");
        return {};
      },
      req, c.writer,
      [&](const images::ImportRequest& r, const images::ByteSource& source) -> Result<Digest> {
        c.seen = r;
        std::vector<char> buf(7);
        for (;;) {
          size_t n = IMAGED_TRY(source(buf));
          if (n == 0) break;
          c.read.append(buf.data(), n);
        }
        return fake(r);
      });
}

const Digest kId = Digest::of("config");

}  // namespace

TEST_CASE("import: fromSrc=- hands the body, repo, tag, message, changes, platform on",
          "[import][pull_route]") {
  ImportCall c;
  run_import(c,
             "fromSrc=-&repo=imported&tag=v1&message=hello&changes=CMD%20%5B%22sh%22%5D&"
             "changes=ENV%20A%3Db&platform=linux%2Farm64",
             "the tarball", [](const images::ImportRequest&) { return kId; });
  REQUIRE(c.seen);
  CHECK(c.read == "the tarball");
  CHECK(c.seen->source == "-");
  REQUIRE(c.seen->tag);
  CHECK(c.seen->tag->str() == "docker.io/library/imported:v1");
  CHECK(c.seen->message == "hello");
  CHECK(c.seen->changes == std::vector<std::string>{"CMD [\"sh\"]", "ENV A=b"});
  CHECK(c.seen->platform.str() == "linux/arm64");
  CHECK(c.writer.status == 200);
  CHECK(c.writer.body == "{\"status\":\"" + kId.str() + "\"}\r\n");

  // The CLI sends the whole reference as repo and no tag; no repo at all leaves it untagged.
  ImportCall cli;
  run_import(cli, "fromSrc=-&repo=imported%3Av2&tag=&message=", "",
             [](const images::ImportRequest&) { return kId; });
  REQUIRE(cli.seen);
  CHECK(cli.seen->tag->str() == "docker.io/library/imported:v2");
  CHECK(cli.seen->platform == oci::host_platform());
  ImportCall untagged;
  run_import(untagged, "fromSrc=-", "", [](const images::ImportRequest&) { return kId; });
  REQUIRE(untagged.seen);
  CHECK_FALSE(untagged.seen->tag);
}

TEST_CASE("import: bad arguments and failed imports are HTTP errors", "[import][pull_route]") {
  auto never = [](const images::ImportRequest&) -> Result<Digest> {
    FAIL("imported");
    return kId;
  };
  ImportCall digest;
  run_import(digest, "fromSrc=-&repo=busybox%40sha256%3A" + std::string(64, 'a'), "", never);
  CHECK(digest.writer.status == 400);
  CHECK(digest.writer.body == "{\"message\":\"cannot import digest reference\"}\n");
  ImportCall upper;
  run_import(upper, "fromSrc=-&repo=BusyBox", "", never);
  CHECK(upper.writer.status == 400);
  ImportCall plat;
  run_import(plat, "fromSrc=-&platform=bogus%2Fx%2Fy%2Fz", "", never);
  CHECK(plat.writer.status == 400);
  ImportCall refused;
  run_import(refused, "fromSrc=-&changes=RUN%20x", "tar", [](const images::ImportRequest&) {
    return Result<Digest>(fail(Errc::InvalidArgument, "run is not a valid change command"));
  });
  CHECK(refused.writer.status == 400);
  CHECK(refused.writer.body == "{\"message\":\"run is not a valid change command\"}\n");
}
