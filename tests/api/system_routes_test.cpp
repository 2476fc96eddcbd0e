#include "api/system_routes.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/recording_writer.h"
#include "api/router.h"
#include "tests/api/route_call.h"

using imaged::Errc;
using imaged::Result;
using imaged::api::Method;
using imaged::api::RecordingWriter;
using imaged::api::Request;
using imaged::api::Router;
using nlohmann::json;

namespace {

class FixedCount : public imaged::api::SystemInfoSource {
 public:
  explicit FixedCount(Result<std::int64_t> n) : n_(std::move(n)) {}
  Result<std::int64_t> image_count() override { return n_; }

 private:
  Result<std::int64_t> n_;
};

imaged::api::EngineInfo engine() {
  return {.version = "0.1.0",
          .git_commit = "abc1234",
          .build_time = "2025-01-02T03:04:05Z",
          .compiler = "gcc 12.2.0",
          .id = "0f0f0f0f-aaaa-4bbb-8ccc-123456789abc",
          .data_root = "/var/lib/imaged",
          .registry_mirrors = {"https://mirror.example/"},
          .insecure_registries = {"registry.local:5000", "10.0.0.0/8"}};
}

imaged::api::HostFacts host() {
  return {.hostname = "app1",
          .kernel_version = "6.1.0-18-amd64",
          .machine = "x86_64",
          .operating_system = "Debian GNU/Linux 12 (bookworm)",
          .os_version = "12",
          .cgroup_version = "2",
          .ncpu = 4,
          .mem_total = 8 << 20};
}

RecordingWriter call(const Router& router, Method method, const std::string& path) {
  return imaged::api::testing::call_route(router, method, path);
}

}  // namespace

TEST_CASE("system routes: GET /_ping answers OK with dockerd's headers", "[api]") {
  Router r;
  imaged::api::register_system_routes(r, engine(), host(), nullptr);
  auto w = call(r, Method::Get, "/_ping");
  CHECK(w.status == 200);
  CHECK(w.body == "OK");
  CHECK(w.content_type == "text/plain; charset=utf-8");
  CHECK(w.header("Cache-Control") == "no-cache, no-store, must-revalidate");
  CHECK(w.header("Pragma") == "no-cache");
  CHECK(w.header("Swarm") == "inactive");
}

TEST_CASE("system routes: HEAD /_ping has an empty body", "[api]") {
  Router r;
  imaged::api::register_system_routes(r, engine(), host(), nullptr);
  auto w = call(r, Method::Head, "/v1.40/_ping");
  CHECK(w.status == 200);
  CHECK(w.body.empty());
  CHECK(call(r, Method::Post, "/_ping").status == 404);
}

TEST_CASE("system routes: /version has the Engine component with string details", "[api]") {
  Router r;
  imaged::api::register_system_routes(r, engine(), host(), nullptr);
  auto w = call(r, Method::Get, "/v1.41/version");
  REQUIRE(w.status == 200);
  CHECK(w.content_type == "application/json");
  auto j = json::parse(w.body);
  CHECK(j["Version"] == "0.1.0");
  CHECK(j["ApiVersion"] == "1.50");
  CHECK(j["MinAPIVersion"] == "1.24");
  CHECK(j["Os"] == "linux");
  CHECK(j["Arch"] == "amd64");
  CHECK(j["KernelVersion"] == "6.1.0-18-amd64");
  CHECK(j["GoVersion"] == "gcc 12.2.0");
  CHECK(j["GitCommit"] == "abc1234");
  CHECK(j["BuildTime"] == "2025-01-02T03:04:05Z");
  CHECK_FALSE(j.contains("Experimental"));  // omitempty when false
  REQUIRE(j["Components"].size() == 1);
  const auto& c = j["Components"][0];
  CHECK(c["Name"] == "Engine");
  CHECK(c["Version"] == "0.1.0");
  for (const auto& [key, value] : c["Details"].items()) {
    INFO(key);
    CHECK(value.is_string());
  }
  CHECK(c["Details"]["Experimental"] == "false");
  CHECK(c["Details"]["ApiVersion"] == "1.50");
  CHECK(c["Details"]["MinAPIVersion"] == "1.24");
}

TEST_CASE("system routes: /info has the fields the CLI reads", "[api]") {
  Router r;
  FixedCount count(3);
  imaged::api::register_system_routes(r, engine(), host(), &count);
  auto w = call(r, Method::Get, "/info");
  REQUIRE(w.status == 200);
  auto j = json::parse(w.body);
  CHECK(j["ID"] == "0f0f0f0f-aaaa-4bbb-8ccc-123456789abc");
  CHECK(j["Images"] == 3);
  for (auto k : {"Containers", "ContainersRunning", "ContainersPaused", "ContainersStopped"})
    CHECK(j[k] == 0);
  CHECK(j["Name"] == "app1");
  CHECK(j["ServerVersion"] == "0.1.0");
  CHECK(j["Driver"] == "imaged");
  CHECK(j["DriverStatus"].is_array());
  CHECK(j["DockerRootDir"] == "/var/lib/imaged");
  CHECK(j["Runtimes"].is_object());
  CHECK(j["OSType"] == "linux");
  CHECK(j["Architecture"] == "x86_64");
  CHECK(j["OperatingSystem"] == "Debian GNU/Linux 12 (bookworm)");
  CHECK(j["NCPU"] == 4);
  CHECK(j["MemTotal"] == 8 << 20);
  CHECK(j["CgroupVersion"] == "2");
  CHECK(j["IndexServerAddress"] == "https://index.docker.io/v1/");
  CHECK(j["Swarm"]["LocalNodeState"] == "inactive");
  CHECK(j["Swarm"]["ControlAvailable"] == false);
  CHECK(j["Warnings"].is_null());
  CHECK(j["Labels"] == json::array());
  const auto& reg = j["RegistryConfig"];
  CHECK(reg["Mirrors"] == json::array({"https://mirror.example/"}));
  CHECK(reg["IndexConfigs"]["docker.io"]["Mirrors"] == json::array({"https://mirror.example/"}));
  CHECK(reg["IndexConfigs"]["docker.io"]["Official"] == true);
  CHECK(reg["IndexConfigs"]["registry.local:5000"]["Secure"] == false);
  auto cidrs = reg["InsecureRegistryCIDRs"];
  CHECK(std::find(cidrs.begin(), cidrs.end(), json("10.0.0.0/8")) != cidrs.end());
  CHECK(std::find(cidrs.begin(), cidrs.end(), json("127.0.0.0/8")) != cidrs.end());
}

TEST_CASE("system routes: /info reports a failing image count as an error", "[api]") {
  Router r;
  FixedCount count(imaged::fail(Errc::Unavailable, "store locked"));
  imaged::api::register_system_routes(r, engine(), host(), &count);
  auto w = call(r, Method::Get, "/info");
  CHECK(w.status == 503);
  CHECK(w.body == "{\"message\":\"counting images: store locked\"}\n");
}

TEST_CASE("host info: os-release parsing", "[api]") {
  auto os = imaged::api::parse_os_release(
      "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME='Debian'\n# c\nVERSION_ID=\"12\"\n"
      "ID=debian\nbogus line\n");
  CHECK(os["PRETTY_NAME"] == "Debian GNU/Linux 12 (bookworm)");
  CHECK(os["NAME"] == "Debian");
  CHECK(os["VERSION_ID"] == "12");
  CHECK(os["ID"] == "debian");
  CHECK(os.size() == 4);
}

TEST_CASE("host info: GOARCH names and proxy masking", "[api]") {
  CHECK(imaged::api::go_arch("x86_64") == "amd64");
  CHECK(imaged::api::go_arch("aarch64") == "arm64");
  CHECK(imaged::api::go_arch("armv7l") == "arm");
  CHECK(imaged::api::mask_proxy_credentials("http://user:pw@proxy:3128") ==
        "http://xxxxx:xxxxx@proxy:3128");
  CHECK(imaged::api::mask_proxy_credentials("http://proxy:3128/a@b") == "http://proxy:3128/a@b");
  CHECK(imaged::api::mask_proxy_credentials("") == "");
}

TEST_CASE("host info: probing the live host fills the basics", "[api]") {
  auto h = imaged::api::probe_host();
  CHECK_FALSE(h.kernel_version.empty());
  CHECK_FALSE(h.machine.empty());
  CHECK(h.ncpu >= 1);
  CHECK(h.mem_total > 0);
}
