// POST /auth, GET /images/search and POST /images/{name}/push at the handler level: fakes for
// the shapes, and a real registry (tests/harness) for login and catalog search.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/auth_route.h"
#include "api/push_route.h"
#include "api/recording_writer.h"
#include "api/request.h"
#include "api/search_route.h"
#include "common/remotes/registry_client.h"
#include "tests/common/images/pull_env.h"
#include "tests/support/registry.h"

using namespace imaged;
using namespace imaged::api;
using nlohmann::json;

namespace {

Request make_request(Method method, std::string path, const std::string& query,
                     StringBodyReader& body) {
  Request req;
  req.method = method;
  req.path = std::move(path);
  req.query = QueryParams::parse(query).value();
  req.body = &body;
  return req;
}

std::vector<json> lines(const std::string& body) {
  std::vector<json> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\r\n", pos);
    if (end == std::string::npos) end = body.size();
    if (end > pos) out.push_back(json::parse(body.substr(pos, end - pos)));
    pos = end + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("auth: login against a real htpasswd registry", "[push]") {
  testing::TestRegistry reg({.user = "alice", .password = "s3cret"});
  remotes::NoCredentials none;
  remotes::RegistryClient client(testing::PullEnvOptions::fast_client(), none);
  const LoginFn login = login_with(client);

  SECTION("good credentials") {
    StringBodyReader body(
        json{{"username", "alice"}, {"password", "s3cret"}, {"serveraddress", reg.host()}}.dump());
    Request req = make_request(Method::Post, "/auth", "", body);
    RecordingWriter w;
    handle_auth(login, req, w);
    CHECK(w.status == 200);
    auto j = json::parse(w.body);
    CHECK(j["Status"] == "Login Succeeded");
    CHECK(j.contains("IdentityToken"));
  }
  SECTION("wrong credentials: 401 with the registry's message") {
    StringBodyReader body(
        json{{"username", "alice"}, {"password", "nope"}, {"serveraddress", reg.host()}}.dump());
    Request req = make_request(Method::Post, "/auth", "", body);
    RecordingWriter w;
    handle_auth(login, req, w);
    CHECK(w.status == 401);
    CHECK(json::parse(w.body)["message"].get<std::string>().find("unauthorized") !=
          std::string::npos);
  }
  SECTION("unreachable registry: 500") {
    StringBodyReader body(
        json{{"username", "a"}, {"password", "b"}, {"serveraddress", "127.0.0.1:1"}}.dump());
    Request req = make_request(Method::Post, "/auth", "", body);
    RecordingWriter w;
    handle_auth(login, req, w);
    CHECK(w.status == 500);
    CHECK(json::parse(w.body)["message"].get<std::string>().find("127.0.0.1:1") !=
          std::string::npos);
  }
  SECTION("malformed body: 400") {
    StringBodyReader body("{nope");
    Request req = make_request(Method::Post, "/auth", "", body);
    RecordingWriter w;
    handle_auth(login, req, w);
    CHECK(w.status == 400);
  }
}

TEST_CASE("search: split of the term as moby's splitReposSearchTerm", "[push]") {
  CHECK(split_search_term("busybox") ==
        std::pair<std::string, std::string>{"docker.io", "busybox"});
  CHECK(split_search_term("user/app") ==
        std::pair<std::string, std::string>{"docker.io", "user/app"});
  CHECK(split_search_term("127.0.0.1:5000/busy") ==
        std::pair<std::string, std::string>{"127.0.0.1:5000", "busy"});
  CHECK(split_search_term("localhost/x") == std::pair<std::string, std::string>{"localhost", "x"});
}

TEST_CASE("search: a registry without v1 search is searched through its catalog", "[push]") {
  testing::TestRegistry reg;
  testing::push_fixture(reg, "seed");
  remotes::NoCredentials none;
  remotes::RegistryClient client(testing::PullEnvOptions::fast_client(), none);
  const SearchBackend backend = search_backend(client);

  StringBodyReader body;
  Request req = make_request(Method::Get, "/images/search", "term=" + reg.host() + "/busy", body);
  RecordingWriter w;
  handle_images_search(backend, req, w);
  INFO(w.body);
  REQUIRE(w.status == 200);
  auto j = json::parse(w.body);
  REQUIRE(j.is_array());
  REQUIRE(j.size() >= 1);
  bool found = false;
  for (const auto& e : j) {
    CHECK(e["star_count"] == 0);
    CHECK(e["is_official"] == false);
    CHECK(e["is_automated"] == false);
    CHECK(e["description"] == "");
    if (e["name"] == reg.host() + "/library/busybox") found = true;
  }
  CHECK(found);

  StringBodyReader body2;
  Request none_req =
      make_request(Method::Get, "/images/search", "term=" + reg.host() + "/zzznothing", body2);
  RecordingWriter w2;
  handle_images_search(backend, none_req, w2);
  CHECK(w2.status == 200);
  CHECK(json::parse(w2.body) == json::array());
}

TEST_CASE("search: limit and filters are validated; v1 results are proxied and filtered",
          "[push]") {
  SearchBackend fake;
  fake.search_v1 = [](std::string_view, std::string_view, int,
                      const remotes::AuthConfig&) -> Result<std::vector<remotes::SearchResult>> {
    return std::vector<remotes::SearchResult>{
        {.name = "busybox", .description = "d", .star_count = 3000, .is_official = true},
        {.name = "someone/busybox", .star_count = 2},
        {.name = "auto/busybox", .star_count = 20, .is_automated = true}};
  };
  fake.catalog = [](std::string_view,
                    const remotes::AuthConfig&) -> Result<std::vector<std::string>> {
    return fail(Errc::Internal, "unused");
  };
  auto run = [&](const std::string& query) {
    StringBodyReader body;
    Request req = make_request(Method::Get, "/images/search", query, body);
    RecordingWriter w;
    handle_images_search(fake, req, w);
    return w;
  };
  CHECK(run("term=busybox&limit=0").status == 400);
  CHECK(run("term=busybox&limit=101").status == 400);
  CHECK(run("term=busybox&limit=x").status == 400);
  CHECK(run("term=busybox&filters=" + std::string("%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D"))
            .status == 400);
  auto all = run("term=busybox");
  REQUIRE(all.status == 200);
  CHECK(json::parse(all.body).size() == 3);
  auto limited = run("term=busybox&limit=1");
  CHECK(json::parse(limited.body).size() == 1);
  auto official = run("term=busybox&filters=%7B%22is-official%22%3A%7B%22true%22%3Atrue%7D%7D");
  REQUIRE(official.status == 200);
  REQUIRE(json::parse(official.body).size() == 1);
  CHECK(json::parse(official.body)[0]["name"] == "busybox");
  auto stars = run("term=busybox&filters=%7B%22stars%22%3A%7B%2210%22%3Atrue%7D%7D");
  CHECK(json::parse(stars.body).size() == 2);
  auto automated = run("term=busybox&filters=%7B%22is-automated%22%3A%7B%22true%22%3Atrue%7D%7D");
  CHECK(json::parse(automated.body).size() == 1);
}

TEST_CASE("push route: dockerd's stream shape, aux line, errors in-stream", "[push]") {
  std::optional<images::PushRequest> seen;
  const PushFn fake = [&](const images::PushRequest& r,
                          const images::ProgressSink& sink) -> Status {
    seen = r;
    sink(
        {.status = "The push refers to repository [127.0.0.1:5000/team/busybox]", .message = true});
    if (r.tag && *r.tag == "bad")
      return fail(Errc::NotFound,
                  "An image does not exist locally with the tag: 127.0.0.1:5000/team/busybox");
    sink({.id = "3015f4f74b09", .status = "Preparing"});
    sink({.id = "3015f4f74b09", .status = "Pushing", .current = 10, .total = 100});
    sink({.id = "3015f4f74b09", .status = "Pushed"});
    sink({.status = "media: digest: sha256:" + std::string(64, 'a') + " size: 527",
          .message = true});
    r.on_pushed("media", Digest::parse("sha256:" + std::string(64, 'a')).value(), 527);
    return {};
  };
  auto run = [&](const std::string& name, const std::string& query) {
    StringBodyReader body;
    Request req = make_request(Method::Post, "/images/" + name + "/push", query, body);
    req.params["name"] = name;
    req.headers.add("X-Registry-Auth",
                    remotes::encode_registry_auth({.username = "u", .password = "p"}));
    RecordingWriter w;
    handle_image_push(fake, req, w);
    return w;
  };
  auto ok = run("127.0.0.1:5000/team/busybox", "tag=media");
  REQUIRE(ok.status == 200);
  CHECK(ok.content_type == "application/json");
  auto ls = lines(ok.body);
  REQUIRE(ls.size() == 6);
  CHECK(ls[0] == json{{"status", "The push refers to repository [127.0.0.1:5000/team/busybox]"}});
  CHECK(ls[2]["progressDetail"] == json{{"current", 10}, {"total", 100}});
  CHECK(ls[5] ==
        json{{"progressDetail", json::object()},
             {"aux",
              {{"Tag", "media"}, {"Digest", "sha256:" + std::string(64, 'a')}, {"Size", 527}}}});
  REQUIRE(seen);
  CHECK(seen->repo.name() == "127.0.0.1:5000/team/busybox");
  CHECK(seen->tag == "media");
  CHECK(seen->auth.username == "u");

  auto all = run("127.0.0.1:5000/team/busybox", "");
  CHECK(all.status == 200);
  CHECK_FALSE(seen->tag.has_value());

  auto bad = run("127.0.0.1:5000/team/busybox", "tag=bad");
  CHECK(bad.status == 200);
  auto bl = lines(bad.body);
  REQUIRE(bl.size() == 2);
  CHECK(bl[1]["error"] ==
        "An image does not exist locally with the tag: 127.0.0.1:5000/team/busybox");

  auto invalid = run("127.0.0.1:5000/Team/busybox", "tag=x");
  CHECK(invalid.status == 400);
}
