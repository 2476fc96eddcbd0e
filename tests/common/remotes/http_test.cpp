#include "common/remotes/http.h"

#include <catch2/catch.hpp>

#include "common/remotes/rate_limit.h"
#include "common/remotes/registry_errors.h"

using imaged::Errc;
using namespace imaged::remotes;

TEST_CASE("remotes: headers are case-insensitive", "[remotes]") {
  Headers h;
  h.add("WWW-Authenticate", "Basic realm=a");
  h.add("www-authenticate", "Bearer realm=b");
  h.add("Content-Type", "x");
  CHECK(h.get("content-type") == "x");
  CHECK(h.get_all("Www-Authenticate").size() == 2);
  h.set("CONTENT-TYPE", "y");
  CHECK(h.get_all("content-type") == std::vector<std::string>{"y"});
  h.remove("www-authenticate");
  CHECK_FALSE(h.has("WWW-Authenticate"));
}

TEST_CASE("remotes: URL helpers", "[remotes]") {
  auto p = split_url("HTTPS://Registry.Example.com:443/v2/x?y=1#frag");
  REQUIRE(p);
  CHECK(p->scheme == "https");
  CHECK(p->host == "registry.example.com");
  CHECK(p->target == "/v2/x?y=1");
  CHECK(same_origin("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5000/other"));
  CHECK_FALSE(same_origin("http://127.0.0.1:5000/v2/", "http://localhost:5000/v2/"));
  CHECK_FALSE(same_origin("http://h/v2/", "https://h/v2/"));
  CHECK(same_origin("https://h/v2/", "https://h:443/x"));
  CHECK(resolve_location("http://a:1/v2/x/blobs/uploads/", "/v2/x/blobs/uploads/u?s=1") ==
        "http://a:1/v2/x/blobs/uploads/u?s=1");
  CHECK(resolve_location("http://a:1/v2/x", "https://cdn/b") == "https://cdn/b");
  CHECK(resolve_location("http://a:1/v2/x", "//cdn/b") == "http://cdn/b");
  CHECK(resolve_location("http://a:1/v2/x/y?q", "z") == "http://a:1/v2/x/z");
  CHECK(url_encode("sha256:ab c/") == "sha256%3Aab%20c%2F");
  CHECK(add_query("http://a/p", "digest", "sha256:x") == "http://a/p?digest=sha256%3Ax");
  CHECK(add_query("http://a/p?_state=1", "n", "2") == "http://a/p?_state=1&n=2");
  CHECK(go_method_name("HEAD") == "Head");
}

TEST_CASE("remotes: registry error bodies, dockerd wording", "[remotes]") {
  auto errs = parse_registry_errors(
      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"nosuchtag"}}]})");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].detail == R"({"Tag":"nosuchtag"})");
  CHECK(format_registry_errors(errs) == "manifest unknown: manifest unknown");
  CHECK(
      format_registry_errors(parse_registry_errors(
          R"({"errors":[{"code":"DENIED","message":"requested access to the resource is denied"},{"code":"UNAUTHORIZED","message":"x"}]})")) ==
      "denied: requested access to the resource is denied; unauthorized: x");
  CHECK(format_registry_errors(
            parse_registry_errors(R"({"details":"incorrect username or password"})")) ==
        "unauthorized: incorrect username or password");
  CHECK(parse_registry_errors("<html>").empty());
  CHECK(parse_registry_errors("").empty());

  HttpResponse r;
  r.status = 404;
  r.url = "http://h/v2/x/manifests/y";
  CHECK(error_from_response(r, "head").message ==
        "unexpected status from HEAD request to http://h/v2/x/manifests/y: 404 Not Found");
  CHECK(error_from_response(r, "HEAD").code == Errc::NotFound);
  r.status = 401;
  CHECK(error_from_response(r, "GET").message == "unauthorized: authentication required");
  CHECK(error_from_response(r, "GET").code == Errc::Unauthenticated);
  r.status = 403;
  CHECK(error_from_response(r, "GET").code == Errc::PermissionDenied);
  r.status = 429;
  r.body =
      R"({"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]})";
  CHECK(error_from_response(r, "GET").message ==
        "toomanyrequests: You have reached your pull rate limit.");
  CHECK(error_from_response(r, "GET").code == Errc::ResourceExhausted);
  CHECK(errc_for_status(503) == Errc::Unavailable);
  CHECK(errc_for_status(418) == Errc::Internal);
}

TEST_CASE("remotes: rate limit headers", "[remotes]") {
  Headers h;
  h.add("ratelimit-limit", "100;w=21600");
  h.add("ratelimit-remaining", "76;w=21600");
  h.add("docker-ratelimit-source", "203.0.113.7");
  auto r = parse_rate_limit(h, {});
  REQUIRE(r);
  CHECK(r->limit == 100);
  CHECK(r->remaining == 76);
  CHECK(r->window == std::chrono::seconds(21600));
  CHECK(r->source == "203.0.113.7");
  CHECK_FALSE(parse_rate_limit(Headers{}, {}));
  RateLimits store;
  store.record("docker.io", h);
  store.record("docker.io", Headers{});  // nothing announced: kept
  REQUIRE(store.get("docker.io"));
  CHECK(store.get("docker.io")->remaining == 76);
  CHECK_FALSE(store.get("quay.io"));
  CHECK(store.all().size() == 1);
}
