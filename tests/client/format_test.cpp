#include "client/format.h"

#include <catch2/catch.hpp>

using namespace imaged::client;

TEST_CASE("client format: sizes as go-units HumanSize (decimal, %.3g)", "[client]") {
  CHECK(human_size(0) == "0B");
  CHECK(human_size(999) == "999B");
  CHECK(human_size(1000) == "1kB");
  CHECK(human_size(1984162) == "1.98MB");
  CHECK(human_size(1984162, 4) == "1.984MB");
  CHECK(human_size(36460) == "36.5kB");
  CHECK(human_size(1069030, 4) == "1.069MB");
  CHECK(human_size(5.5e9) == "5.5GB");
  CHECK(human_size(123456789012345.0) == "123TB");
}

TEST_CASE("client format: durations as go-units HumanDuration", "[client]") {
  CHECK(human_duration(0) == "Less than a second");
  CHECK(human_duration(1) == "1 second");
  CHECK(human_duration(45) == "45 seconds");
  CHECK(human_duration(60) == "About a minute");
  CHECK(human_duration(119) == "About a minute");
  CHECK(human_duration(120) == "2 minutes");
  CHECK(human_duration(3599) == "59 minutes");
  CHECK(human_duration(3600) == "About an hour");
  CHECK(human_duration(5399) == "About an hour");
  CHECK(human_duration(5400) == "2 hours");
  CHECK(human_duration(47 * 3600) == "47 hours");
  CHECK(human_duration(48 * 3600) == "2 days");
  CHECK(human_duration(14 * 86400) == "2 weeks");
  CHECK(human_duration(60 * 86400) == "2 months");
  CHECK(human_duration(3 * 365 * 86400) == "3 years");
  CHECK(time_ago(1000, 1000 + 14 * 86400) == "2 weeks ago");
  CHECK(time_ago(0, 100) == "N/A");
}

TEST_CASE("client format: ids and ellipsis", "[client]") {
  CHECK(short_id("sha256:77520b0abf60aaaaaaaaaaaaaaaa") == "77520b0abf60");
  CHECK(short_id("sha256:77520b0abf60aaaa", true) == "sha256:77520b0abf60aaaa");
  CHECK(ellipsis("abcdef", 10) == "abcdef");
  CHECK(ellipsis("abcdefghij", 5) == "abcd…");
}

TEST_CASE("client format: templates substitute fields and json", "[client]") {
  Row row{{{"Repository", "busybox"}, {"Tag", "musl"}, {"ID", "77520b0abf60"}}};
  std::vector<std::string> fields{"Repository", "Tag", "ID"};
  auto t = Template::parse("{{.Repository}}:{{.Tag}}", fields);
  REQUIRE(t);
  CHECK(t->kind() == Template::Kind::Raw);
  CHECK(t->expand(row) == "busybox:musl");
  auto j = Template::parse("{{json .}}", fields);
  REQUIRE(j);
  CHECK(j->expand(row) == R"({"ID":"77520b0abf60","Repository":"busybox","Tag":"musl"})");
  auto jf = Template::parse("{{ json .Tag }}", fields);
  REQUIRE(jf);
  CHECK(jf->expand(row) == R"("musl")");
  auto bad = Template::parse("{{.Nope}}", fields);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("unknown field .Nope") != std::string::npos);
  CHECK_FALSE(Template::parse("{{range .}}x{{end}}", fields));
  CHECK_FALSE(Template::parse("{{.ID", fields));
}

TEST_CASE("client format: table templates align like the docker CLI's tabwriter", "[client]") {
  std::vector<Row> rows{
      {{{"Repository", "busybox"}, {"Tag", "musl"}, {"ID", "77520b0abf60"}}},
      {{{"Repository", "127.0.0.1:5000/test/busybox"}, {"Tag", "media"}, {"ID", "77520b0abf60"}}}};
  auto t =
      Template::parse(R"(table {{.Repository}}\t{{.Tag}}\t{{.ID}})", {"Repository", "Tag", "ID"});
  REQUIRE(t);
  CHECK(render(*t, rows, {{"ID", "IMAGE ID"}}) ==
        "REPOSITORY                    TAG       IMAGE ID\n"
        "busybox                       musl      77520b0abf60\n"
        "127.0.0.1:5000/test/busybox   media     77520b0abf60\n");
  auto json = Template::parse("json", {"Repository", "Tag", "ID"});
  REQUIRE(json);
  auto doc = nlohmann::json::parse(render(*json, rows, {}));
  REQUIRE(doc.is_array());
  CHECK(doc[1]["Tag"] == "media");
}

TEST_CASE("client format: inspect templates walk JSON", "[client]") {
  auto doc = nlohmann::json::parse(
      R"({"Id":"sha256:ab","Size":12,"RootFS":{"Layers":["sha256:1","sha256:2"]},"Config":{"Labels":null}})");
  CHECK(expand_json_template("{{.Id}}", doc).value() == "sha256:ab");
  CHECK(expand_json_template("{{.Size}} {{.RootFS.Layers}}", doc).value() ==
        "12 [sha256:1 sha256:2]");
  CHECK(expand_json_template("{{json .RootFS}}", doc).value() ==
        R"({"Layers":["sha256:1","sha256:2"]})");
  CHECK(expand_json_template("{{.Nope}}", doc).value() == "<no value>");
  CHECK(expand_json_template("{{.Config.Labels}}", doc).value() == "<nil>");
  CHECK_FALSE(expand_json_template("{{if .Id}}x{{end}}", doc));
}
