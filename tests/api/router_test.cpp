#include "api/router.h"

#include <catch2/catch.hpp>

#include "api/recording_writer.h"

using imaged::Errc;
using imaged::api::ApiVersion;
using imaged::api::Method;
using imaged::api::RecordingWriter;
using imaged::api::Request;
using imaged::api::ResponseWriter;
using imaged::api::Router;

namespace {

// A handler that answers with its own name, to see which route won.
imaged::api::Handler named(std::string name) {
  return [name](Request&, ResponseWriter& w) { w.text(200, name); };
}

std::string winner(const Router& router, Method method, std::string_view path) {
  auto m = router.resolve(method, path);
  Request req;
  RecordingWriter w;
  m.handler(req, w);
  return w.status == 200 ? w.body : std::to_string(w.status) + " " + w.body;
}

Router image_routes() {
  Router r;
  r.add(Method::Get, "/images/json", named("list"));
  r.add(Method::Get, "/images/get", named("save"));
  r.add(Method::Get, "/images/{name:.*}/json", named("inspect"));
  r.add(Method::Get, "/images/{name:.*}/history", named("history"));
  r.add(Method::Post, "/images/{name:.*}/push", named("push"));
  r.add(Method::Post, "/images/{name:.*}/tag", named("tag"));
  r.add(Method::Delete, "/images/{name:.*}", named("delete"));
  r.add(Method::Get, "/_ping", named("ping"));
  r.add(Method::Head, "/_ping", named("ping-head"));
  r.add(Method::Get, "/containers/{id}/json", named("container"));
  return r;
}

}  // namespace

TEST_CASE("router: the same route answers with and without a version prefix", "[api]") {
  auto r = image_routes();
  auto plain = r.match(Method::Get, "/images/json");
  REQUIRE(plain);
  CHECK_FALSE(plain->versioned);
  CHECK(plain->version == imaged::api::kMaxApiVersion);
  CHECK(plain->path == "/images/json");

  auto v = r.match(Method::Get, "/v1.41/images/json");
  REQUIRE(v);
  CHECK(v->versioned);
  CHECK(v->version == ApiVersion{1, 41, 0});
  CHECK(v->path == "/images/json");
}

TEST_CASE("router: a version above 1.50 is 400 too new", "[api]") {
  auto r = image_routes();
  auto m = r.match(Method::Get, "/v1.99/images/json");
  REQUIRE_FALSE(m);
  CHECK(m.error().code == Errc::InvalidArgument);
  CHECK(m.error().message ==
        "client version 1.99 is too new. Maximum supported API version is 1.50");
  RecordingWriter w;
  Request req;
  r.resolve(Method::Get, "/v1.99/images/json").handler(req, w);
  CHECK(w.status == 400);
  CHECK(w.content_type == "application/json");
  CHECK(w.body ==
        "{\"message\":\"client version 1.99 is too new. Maximum supported API version is "
        "1.50\"}\n");
}

TEST_CASE("router: a version below 1.24 is 400 too old, in plain text as dockerd", "[api]") {
  auto r = image_routes();
  RecordingWriter w;
  Request req;
  r.resolve(Method::Get, "/v1.11/_ping").handler(req, w);
  CHECK(w.status == 400);
  CHECK(w.content_type == "text/plain; charset=utf-8");
  CHECK(w.body ==
        "client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade "
        "your client to a newer version\n");
}

TEST_CASE("router: version is checked only once a route matched", "[api]") {
  auto r = image_routes();
  auto m = r.match(Method::Get, "/v1.99/nosuch");
  REQUIRE_FALSE(m);
  CHECK(m.error().code == Errc::NotFound);
}

TEST_CASE("router: unknown paths and non-numeric prefixes are 404 page not found", "[api]") {
  auto r = image_routes();
  for (auto path : {"/nosuch", "/vabc/images/json", "/v1.41", "/v/images/json", "/"}) {
    INFO(path);
    CHECK(winner(r, Method::Get, path) == "404 {\"message\":\"page not found\"}\n");
  }
}

TEST_CASE("router: a known path with another method is 404 page not found", "[api]") {
  auto r = image_routes();
  CHECK(winner(r, Method::Post, "/_ping") == "404 {\"message\":\"page not found\"}\n");
  CHECK(winner(r, Method::Put, "/images/json") == "404 {\"message\":\"page not found\"}\n");
}

TEST_CASE("router: HEAD matches only routes registered for HEAD", "[api]") {
  auto r = image_routes();
  CHECK(winner(r, Method::Head, "/_ping") == "ping-head");
  CHECK(winner(r, Method::Head, "/v1.50/_ping") == "ping-head");
  CHECK(winner(r, Method::Head, "/images/json").starts_with("404"));
}

TEST_CASE("router: {name:.*} captures names with slashes and colons", "[api]") {
  auto r = image_routes();
  auto m = r.match(Method::Post, "/v1.41/images/127.0.0.1:5000/team/busybox/push");
  REQUIRE(m);
  CHECK(m->params.at("name") == "127.0.0.1:5000/team/busybox");

  auto inspect = r.match(Method::Get, "/images/busybox:media/json");
  REQUIRE(inspect);
  CHECK(inspect->params.at("name") == "busybox:media");

  auto del = r.match(Method::Delete, "/images/docker.io/library/busybox:musl");
  REQUIRE(del);
  CHECK(del->params.at("name") == "docker.io/library/busybox:musl");

  auto digest = r.match(Method::Get, "/images/busybox@sha256:abcd/json");
  REQUIRE(digest);
  CHECK(digest->params.at("name") == "busybox@sha256:abcd");
}

TEST_CASE("router: the path is percent-decoded before matching", "[api]") {
  auto r = image_routes();
  auto m = r.match(Method::Get, "/images/busybox%3Amusl/json");
  REQUIRE(m);
  CHECK(m->params.at("name") == "busybox:musl");
  auto bad = r.match(Method::Get, "/images/bad%zz/json");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);
}

TEST_CASE("router: literal routes beat patterns registered earlier", "[api]") {
  Router r;
  r.add(Method::Get, "/images/{name:.*}/json", named("inspect"));
  r.add(Method::Get, "/images/json", named("list"));
  CHECK(winner(r, Method::Get, "/images/json") == "list");
  CHECK(winner(r, Method::Get, "/images/x/json") == "inspect");
}

TEST_CASE("router: among patterns the first registered wins", "[api]") {
  Router r;
  r.add(Method::Get, "/images/{name:.*}/get", named("save-one"));
  r.add(Method::Get, "/images/{name:.*}", named("catch-all"));
  CHECK(winner(r, Method::Get, "/images/busybox/get") == "save-one");
  CHECK(winner(r, Method::Get, "/images/busybox") == "catch-all");
}

TEST_CASE("router: {id} matches exactly one non-empty segment", "[api]") {
  auto r = image_routes();
  CHECK(winner(r, Method::Get, "/containers/abc/json") == "container");
  CHECK(winner(r, Method::Get, "/containers/a/b/json").starts_with("404"));
  CHECK(winner(r, Method::Get, "/containers//json").starts_with("404"));
}

TEST_CASE("router: body limits come from the route", "[api]") {
  Router r;
  r.add(Method::Post, "/images/load", named("load"),
        imaged::api::RouteOptions{.body_limit = imaged::api::kUnlimitedBody});
  r.add(Method::Post, "/auth", named("auth"));
  CHECK(r.match(Method::Post, "/images/load")->body_limit == imaged::api::kUnlimitedBody);
  CHECK(r.match(Method::Post, "/auth")->body_limit == imaged::api::kDefaultBodyLimit);
}

TEST_CASE("router: malformed patterns are rejected at registration", "[api]") {
  Router r;
  CHECK_THROWS_AS(r.add(Method::Get, "images", named("x")), std::invalid_argument);
  CHECK_THROWS_AS(r.add(Method::Get, "/images/{name", named("x")), std::invalid_argument);
  CHECK_THROWS_AS(r.add(Method::Get, "/images/{name:[a-z]+}", named("x")), std::invalid_argument);
}
