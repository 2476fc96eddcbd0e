#include "api/query.h"

#include <catch2/catch.hpp>

using imaged::Errc;
using imaged::api::Filters;
using imaged::api::parse_bool;
using imaged::api::QueryParams;

TEST_CASE("query: dockerd's false values", "[api]") {
  for (auto v : {"", "0", "no", "false", "none", "False", "FALSE", " no ", "NONE", "\tfalse\n"}) {
    INFO("'" << v << "'");
    CHECK_FALSE(parse_bool(v));
  }
}

TEST_CASE("query: anything else is true", "[api]") {
  for (auto v : {"1", "true", "True", "yes", "on", "2", "anything"}) {
    INFO(v);
    CHECK(parse_bool(v));
  }
}

TEST_CASE("query: parses, decodes and keeps repeated keys", "[api]") {
  auto q = QueryParams::parse("names=busybox%3Amedia&names=alpine&all=1&term=a+b&empty=&flag");
  REQUIRE(q);
  CHECK(q->get_all("names") == std::vector<std::string>{"busybox:media", "alpine"});
  CHECK(q->get("names") == "busybox:media");
  CHECK(q->value("term") == "a b");
  CHECK(q->has("empty"));
  CHECK(q->value("empty") == "");
  CHECK(q->has("flag"));
  CHECK_FALSE(q->has("nosuch"));
  CHECK(q->get_bool("all"));
}

TEST_CASE("query: docker-py's force=False is false", "[api]") {
  auto q = QueryParams::parse("force=False&noprune=False&all=0");
  REQUIRE(q);
  CHECK_FALSE(q->get_bool("force"));
  CHECK_FALSE(q->get_bool("noprune"));
  CHECK_FALSE(q->get_bool("all"));
  CHECK_FALSE(q->get_bool("absent"));
  CHECK(q->get_bool_or("absent", true));
}

TEST_CASE("query: bad escapes are InvalidArgument", "[api]") {
  auto q = QueryParams::parse("a=%zz");
  REQUIRE_FALSE(q);
  CHECK(q.error().code == Errc::InvalidArgument);
}

TEST_CASE("query: integers", "[api]") {
  auto q = QueryParams::parse("limit=25&neg=-3&bad=x1&empty=");
  REQUIRE(q);
  CHECK(q->get_int("limit").value() == 25);
  CHECK(q->get_int("neg").value() == -3);
  CHECK_FALSE(q->get_int("absent").value().has_value());
  CHECK_FALSE(q->get_int("empty").value().has_value());
  auto bad = q->get_int("bad");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::InvalidArgument);
  CHECK(bad.error().message == "strconv.ParseInt: parsing \"x1\": invalid syntax");
}

TEST_CASE("filters: the map form", "[api]") {
  auto f = Filters::parse(R"({"reference":{"busy*":true,"alpine":true},"dangling":{"true":true}})");
  REQUIRE(f);
  CHECK(f->get("reference") == std::vector<std::string>{"alpine", "busy*"});
  CHECK(f->contains("dangling"));
  CHECK(f->get_bool_or("dangling", false).value());
  CHECK(f->exact_match("dangling", "true"));
  CHECK_FALSE(f->exact_match("dangling", "false"));
  CHECK(f->exact_match("absent", "anything"));
}

TEST_CASE("filters: the legacy array form", "[api]") {
  auto f = Filters::parse(R"({"reference":["busybox"],"label":["a=b","c"]})");
  REQUIRE(f);
  CHECK(f->get("reference") == std::vector<std::string>{"busybox"});
  CHECK(f->get("label").size() == 2);
}

TEST_CASE("filters: empty and null are no filters", "[api]") {
  CHECK(Filters::parse("").value().empty());
  CHECK(Filters::parse("{}").value().empty());
  CHECK(Filters::parse("null").value().empty());
}

TEST_CASE("filters: malformed JSON is 400", "[api]") {
  for (auto text :
       {"{", "not json", "[1,2]", R"({"a":"b"})", R"({"a":{"b":"c"}})", R"({"a":[1]})"}) {
    INFO(text);
    auto f = Filters::parse(text);
    REQUIRE_FALSE(f);
    CHECK(f.error().code == Errc::InvalidArgument);
    CHECK(f.error().message.starts_with("invalid JSON"));
  }
}

TEST_CASE("filters: an unknown key is Invalid filter 'bogus'", "[api]") {
  constexpr std::string_view allowed[] = {"reference", "dangling", "label", "before", "since"};
  auto q = QueryParams::parse("filters=%7B%22bogus%22%3A%7B%22x%22%3Atrue%7D%7D");
  REQUIRE(q);
  auto f = imaged::api::parse_filters(*q, allowed);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == Errc::InvalidArgument);
  CHECK(f.error().message == "Invalid filter 'bogus'");

  auto ok = QueryParams::parse("filters=%7B%22dangling%22%3A%7B%22true%22%3Atrue%7D%7D");
  CHECK(imaged::api::parse_filters(*ok, allowed));
}

TEST_CASE("filters: boolean filter values", "[api]") {
  auto f = Filters::parse(R"({"dangling":{"maybe":true},"two":{"true":true,"false":true}})");
  REQUIRE(f);
  CHECK_FALSE(f->get_bool_or("dangling", false));
  CHECK_FALSE(f->get_bool_or("two", false));
  CHECK(f->get_bool_or("absent", true).value());
}
