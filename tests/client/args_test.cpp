#include "client/args.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "client/cli.h"
#include "client/host.h"

using namespace imaged::client;

namespace {
const std::vector<OptionSpec> kSpecs = {{"all", 'a', false},   {"force", 'f', false},
                                        {"format", 0, true},   {"filter", 0, true},
                                        {"quiet", 'q', false}, {"output", 'o', true}};
imaged::Result<ParsedArgs> parse(std::vector<std::string> args) { return parse_args(args, kSpecs); }
}  // namespace

TEST_CASE("client args: long, short, grouped and valued options", "[client]") {
  auto a = parse({"-af", "--format={{.ID}}", "x", "--filter", "dangling=true", "--filter=label=a",
                  "-ofile.tar", "y"});
  REQUIRE(a);
  CHECK(a->flag("all"));
  CHECK(a->flag("force"));
  CHECK_FALSE(a->flag("quiet"));
  CHECK(a->get("format") == "{{.ID}}");
  CHECK(a->all("filter") == std::vector<std::string>{"dangling=true", "label=a"});
  CHECK(a->get("output") == "file.tar");
  CHECK(a->positionals == std::vector<std::string>{"x", "y"});
  auto b = parse({"--all=false", "--", "-q"});
  REQUIRE(b);
  CHECK_FALSE(b->flag("all"));
  CHECK(b->positionals == std::vector<std::string>{"-q"});
}

TEST_CASE("client args: errors use pflag's wording", "[client]") {
  auto unknown = parse({"--bogus"});
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "unknown flag: --bogus");
  auto shorthand = parse({"-z"});
  REQUIRE_FALSE(shorthand);
  CHECK(shorthand.error().message == "unknown shorthand flag: 'z' in -z");
  auto missing = parse({"--format"});
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "flag needs an argument: --format");
}

TEST_CASE("client args: global options stop at the command", "[client]") {
  std::vector<std::string> args{"-H", "unix:///x.sock", "images", "-q"};
  auto a = parse_args(args, {{"host", 'H', true}}, true);
  REQUIRE(a);
  CHECK(a->get("host") == "unix:///x.sock");
  CHECK(a->positionals == std::vector<std::string>{"images", "-q"});
}

TEST_CASE("client host: flag, IMAGED_HOST, unix DOCKER_HOST, then the default", "[client]") {
  HostEnv env{.xdg_runtime_dir = "/run/user/1000"};
  CHECK(resolve_host(env)->socket == "/run/user/1000/imaged.sock");
  env.docker_host = "tcp://1.2.3.4:2375";
  CHECK(resolve_host(env)->socket == "/run/user/1000/imaged.sock");
  env.docker_host = "unix:///d.sock";
  CHECK(resolve_host(env)->socket == "/d.sock");
  env.imaged_host = "unix:///i.sock";
  CHECK(resolve_host(env)->socket == "/i.sock");
  env.flag = "unix:///f.sock";
  CHECK(resolve_host(env)->socket == "/f.sock");
  CHECK(resolve_host(env)->source == "-H");
  env.flag = "tcp://x:1";
  CHECK_FALSE(resolve_host(env));
  CHECK(resolve_host(HostEnv{.root = true})->socket == "/run/imaged.sock");
}

TEST_CASE("client host: a missing socket explains how to start imaged", "[client]") {
  auto msg = connect_failure_message(Host{"/nonexistent/imaged.sock", "default"});
  CHECK(msg.find("does not exist") != std::string::npos);
  CHECK(msg.find("systemctl start imaged") != std::string::npos);
  CHECK(msg.find("./scripts/run-daemon.sh") != std::string::npos);
}

TEST_CASE("client cli: usage errors exit 2, help exits 0, every command has help", "[client]") {
  std::ostringstream out, err;
  std::istringstream in;
  CHECK(run_cli({"nosuchcmd"}, out, err, in) == kExitUsage);
  CHECK(err.str().find("imagectl: 'nosuchcmd' is not an imagectl command") != std::string::npos);
  err.str("");
  CHECK(run_cli({"tag", "onlyone"}, out, err, in) == kExitUsage);
  CHECK(err.str().find("requires exactly 2 arguments") != std::string::npos);
  err.str("");
  CHECK(run_cli({"images", "--bogus"}, out, err, in) == kExitUsage);
  for (auto& c : all_commands()) {
    std::ostringstream o, e;
    INFO(c.name);
    CHECK(run_cli({c.name, "--help"}, o, e, in) == kExitOk);
    CHECK(o.str().find("Usage:  imagectl") != std::string::npos);
    if (c.name != "help") CHECK(o.str().find("Examples:") != std::string::npos);
  }
  std::ostringstream comp, e2;
  CHECK(run_cli({"completion", "bash"}, comp, e2, in) == kExitOk);
  CHECK(comp.str().find("complete -F _imagectl imagectl") != std::string::npos);
  CHECK(comp.str().find("--no-trunc") != std::string::npos);
}
