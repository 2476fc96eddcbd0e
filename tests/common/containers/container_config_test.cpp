#include "common/containers/container_config.h"

#include <catch2/catch.hpp>

#include <fstream>

#include "common/containers/container_service.h"
#include "common/containers/names.h"
#include "tests/support/temp_dir.h"

using namespace imaged::containers;
using imaged::Errc;
using imaged::testing::TempDir;
using nlohmann::json;

TEST_CASE("containers: image defaults merge as moby's merge()", "[containers]") {
  json image = {{"Env", {"PATH=/bin", "A=image"}},
                {"Cmd", {"sh"}},
                {"WorkingDir", "/srv"},
                {"User", "daemon"},
                {"Labels", {{"from", "image"}, {"both", "image"}}},
                {"StopSignal", "SIGQUIT"}};
  SECTION("an empty config takes everything") {
    json m = merge_image_config(json::object(), image);
    CHECK(m["Cmd"] == json({"sh"}));
    CHECK(m["Env"] == json({"PATH=/bin", "A=image"}));
    CHECK(m["WorkingDir"] == "/srv");
    CHECK(m["User"] == "daemon");
    CHECK(m["StopSignal"] == "SIGQUIT");
    CHECK(m["Labels"] == json({{"from", "image"}, {"both", "image"}}));
    CHECK(m["Volumes"].is_null());
  }
  SECTION("what the user sets wins; env keys merge") {
    json user = {{"Env", {"A=user", "B=1"}},
                 {"Cmd", {"echo", "hi"}},
                 {"User", "1000"},
                 {"Labels", {{"both", "user"}}},
                 {"Volumes", json::object()}};
    json m = merge_image_config(user, image);
    CHECK(m["Cmd"] == json({"echo", "hi"}));
    CHECK(m["Env"] == json({"A=user", "B=1", "PATH=/bin"}));
    CHECK(m["User"] == "1000");
    CHECK(m["Labels"] == json({{"from", "image"}, {"both", "user"}}));
    CHECK(m["Volumes"].is_null());  // dockerd shows null for the CLI's {}
  }
  SECTION("a user entrypoint drops the image's Cmd") {
    json m = merge_image_config({{"Entrypoint", {"/bin/true"}}, {"Cmd", nullptr}},
                                {{"Entrypoint", {"/init"}}, {"Cmd", {"serve"}}});
    CHECK(command_line(m) == std::vector<std::string>{"/bin/true"});
    json n = merge_image_config({{"Cmd", {"x"}}}, {{"Entrypoint", {"/init"}}, {"Cmd", {"serve"}}});
    CHECK(command_line(n) == std::vector<std::string>{"/init", "x"});
  }
}

TEST_CASE("containers: users and groups resolve in the container's /etc", "[containers]") {
  TempDir root("imaged-rootfs");
  std::filesystem::create_directories(root / "etc");
  std::ofstream(root / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n"
                                        "app:x:1000:1001:App:/home/app:/bin/sh\n";
  std::ofstream(root / "etc/group")
      << "root:x:0:\napp:x:1001:\nwheel:x:10:root,app\nstaff:x:50:app\n";
  auto root_id = resolve_user(root.path(), "");
  REQUIRE(root_id);
  CHECK((root_id->uid == 0 && root_id->gid == 0 && root_id->home == "/root"));
  auto app = resolve_user(root.path(), "app");
  REQUIRE(app);
  CHECK((app->uid == 1000 && app->gid == 1001 && app->home == "/home/app"));
  CHECK(app->groups == std::vector<gid_t>{10, 50});
  auto numeric = resolve_user(root.path(), "1000:wheel");
  REQUIRE(numeric);
  CHECK((numeric->uid == 1000 && numeric->gid == 10));
  auto unknown_numeric = resolve_user(root.path(), "4242:4343");
  REQUIRE(unknown_numeric);
  CHECK((unknown_numeric->uid == 4242 && unknown_numeric->gid == 4343 &&
         unknown_numeric->home == "/"));
  auto missing = resolve_user(root.path(), "nobody");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message ==
        "unable to find user nobody: no matching entries in passwd file");
  CHECK_FALSE(resolve_user(root.path(), "app:nogroup"));
}

TEST_CASE("containers: process environment and bind mounts", "[containers]") {
  auto env = process_env({{"Env", {"A=1"}}}, "abc", "/root");
  CHECK(env == std::vector<std::string>{
                   "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=1",
                   "HOSTNAME=abc", "HOME=/root"});
  CHECK(process_env({{"Env", {"PATH=/x", "HOME=/h"}}}, "h", "/root") ==
        std::vector<std::string>{"PATH=/x", "HOME=/h", "HOSTNAME=h"});

  auto binds = bind_mounts({{"Binds", {"/srv:/data:ro", "/tmp:/t"}},
                            {"Mounts", {{{"Type", "bind"}, {"Source", "/a"}, {"Target", "/b"}}}}});
  REQUIRE(binds);
  REQUIRE(binds->size() == 3);
  CHECK(((*binds)[0].source == "/srv" && (*binds)[0].target == "/data" && (*binds)[0].read_only));
  CHECK_FALSE((*binds)[1].read_only);
  CHECK((*binds)[2].target == "/b");
  for (json bad :
       {json{{"Binds", {"named:/data"}}}, json{{"Binds", {"/a"}}}, json{{"Binds", {"/a:rel"}}},
        json{{"Mounts", {{{"Type", "volume"}, {"Source", "v"}, {"Target", "/v"}}}}}}) {
    auto r = bind_mounts(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::InvalidArgument);
  }
}

TEST_CASE("containers: names and signals as dockerd takes them", "[containers]") {
  CHECK(valid_name("web"));
  CHECK(valid_name("a-b.c_d"));
  CHECK_FALSE(valid_name("w"));
  CHECK_FALSE(valid_name("-web"));
  CHECK_FALSE(valid_name("we b"));
  for (int i = 0; i < 20; ++i) CHECK(valid_name(generate_name(i % 2)));
  auto id = random_id();
  CHECK(id.size() == 64);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(parse_signal("KILL") == 9);
  CHECK(parse_signal("SIGTERM") == 15);
  CHECK(parse_signal("sigusr1") == 10);
  CHECK(parse_signal("2") == 2);
  CHECK_FALSE(parse_signal("NOPE"));
  CHECK_FALSE(parse_signal("0"));
  CHECK_FALSE(parse_signal(""));
}

TEST_CASE("containers: env merging, console sizes and command texts", "[containers]") {
  CHECK(merge_env({"A=exec", "C=3"}, {"A=1", "B=2"}) ==
        std::vector<std::string>{"A=exec", "C=3", "B=2"});
  CHECK(merge_env({}, string_list(json()))
            .empty());  // a container whose Env is null (no env at all) takes an exec's
  CHECK(string_list("sh") == std::vector<std::string>{"sh"});
  CHECK(console_size({{"ConsoleSize", {40, 120}}}) ==
        std::pair<unsigned short, unsigned short>{40, 120});
  CHECK(console_size({{"ConsoleSize", nullptr}}) ==
        std::pair<unsigned short, unsigned short>{0, 0});
  CHECK(join_command({"sh", "-c", "echo hi"}) == "sh -c echo hi");
}
