#include "api/system_routes.h"

#include <dirent.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "api/api_version.h"
#include "api/router.h"

namespace imaged::api {

namespace {

using nlohmann::ordered_json;

std::string rfc3339_now() {
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
      1000000000;
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  char head[32], zone[8];
  std::strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
  std::strftime(zone, sizeof(zone), "%z", &tm);  // +0100 → +01:00
  std::string z = zone;
  if (z == "+0000" || z.empty())
    z = "Z";
  else
    z = z.substr(0, 3) + ":" + z.substr(3);
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%09lld", static_cast<long long>(nanos));
  std::string f = frac;
  while (f.size() > 1 && f.back() == '0') f.pop_back();
  if (f == ".") f.clear();
  return std::string(head) + f + z;
}

int count_dir_entries(const char* path) {
  int n = 0;
  if (DIR* d = ::opendir(path)) {
    while (dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

std::string env_or_empty(const char* upper, const char* lower) {
  const char* v = std::getenv(upper);
  if (!v || !*v) v = std::getenv(lower);
  return v ? std::string(v) : std::string();
}

// Entries of --insecure-registry that are CIDRs ("10.0.0.0/8") vs registry names.
bool looks_like_cidr(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash + 1 >= s.size()) return false;
  for (std::size_t i = slash + 1; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return s.find_first_not_of("0123456789abcdefABCDEF.:/") == std::string::npos;
}

ordered_json registry_config(const EngineInfo& engine) {
  ordered_json cidrs = ordered_json::array({"::1/128", "127.0.0.0/8"});
  ordered_json index_configs = ordered_json::object();
  ordered_json mirrors = ordered_json::array();
  for (const auto& m : engine.registry_mirrors) mirrors.push_back(m);
  for (const auto& r : engine.insecure_registries) {
    if (looks_like_cidr(r)) {
      if (std::find(cidrs.begin(), cidrs.end(), ordered_json(r)) == cidrs.end()) cidrs.push_back(r);
      continue;
    }
    index_configs[r] = ordered_json{
        {"Name", r}, {"Mirrors", ordered_json::array()}, {"Secure", false}, {"Official", false}};
  }
  index_configs["docker.io"] = ordered_json{
      {"Name", "docker.io"}, {"Mirrors", mirrors}, {"Secure", true}, {"Official", true}};
  return ordered_json{{"AllowNondistributableArtifactsCIDRs", nullptr},
                      {"AllowNondistributableArtifactsHostnames", nullptr},
                      {"InsecureRegistryCIDRs", cidrs},
                      {"IndexConfigs", index_configs},
                      {"Mirrors", mirrors}};
}

ordered_json version_json(const EngineInfo& engine, const HostFacts& host) {
  std::string arch = go_arch(host.machine);
  ordered_json details{{"ApiVersion", std::string(kMaxApiVersionText)},
                       {"Arch", arch},
                       {"BuildTime", engine.build_time},
                       {"Experimental", "false"},
                       {"GitCommit", engine.git_commit},
                       {"GoVersion", engine.compiler},
                       {"KernelVersion", host.kernel_version},
                       {"MinAPIVersion", std::string(kMinApiVersionText)},
                       {"Os", "linux"}};
  ordered_json engine_component{
      {"Name", "Engine"}, {"Version", engine.version}, {"Details", details}};
  return ordered_json{{"Platform", {{"Name", "imaged"}}},
                      {"Components", ordered_json::array({engine_component})},
                      {"Version", engine.version},
                      {"ApiVersion", std::string(kMaxApiVersionText)},
                      {"MinAPIVersion", std::string(kMinApiVersionText)},
                      {"GitCommit", engine.git_commit},
                      {"GoVersion", engine.compiler},
                      {"Os", "linux"},
                      {"Arch", arch},
                      {"KernelVersion", host.kernel_version},
                      {"BuildTime", engine.build_time}};
}

ordered_json info_json(const EngineInfo& engine, const HostFacts& host, std::int64_t images) {
  ordered_json driver_status =
      ordered_json::array({ordered_json::array({"Data Root", engine.data_root})});
  ordered_json warnings = nullptr;
  for (const auto& w : engine.warnings) warnings.push_back(w);
  return ordered_json{
      {"ID", engine.id},
      {"Containers", 0},
      {"ContainersRunning", 0},
      {"ContainersPaused", 0},
      {"ContainersStopped", 0},
      {"Images", images},
      {"Driver", engine.driver},
      {"DriverStatus", driver_status},
      {"Plugins",
       {{"Volume", ordered_json::array()},
        {"Network", ordered_json::array()},
        {"Authorization", nullptr},
        {"Log", ordered_json::array()}}},
      {"MemoryLimit", false},
      {"SwapLimit", false},
      {"CpuCfsPeriod", false},
      {"CpuCfsQuota", false},
      {"CPUShares", false},
      {"CPUSet", false},
      {"PidsLimit", false},
      {"IPv4Forwarding", false},
      {"Debug", engine.debug},
      {"NFd", count_dir_entries("/proc/self/fd")},
      {"OomKillDisable", false},
      {"NGoroutines", count_dir_entries("/proc/self/task")},
      {"SystemTime", rfc3339_now()},
      {"LoggingDriver", "none"},
      {"CgroupDriver", "none"},
      {"CgroupVersion", host.cgroup_version},
      {"NEventsListener", 0},
      {"KernelVersion", host.kernel_version},
      {"OperatingSystem", host.operating_system},
      {"OSVersion", host.os_version},
      {"OSType", "linux"},
      {"Architecture", host.machine},
      {"IndexServerAddress", "https://index.docker.io/v1/"},
      {"RegistryConfig", registry_config(engine)},
      {"NCPU", host.ncpu},
      {"MemTotal", host.mem_total},
      {"GenericResources", nullptr},
      {"DockerRootDir", engine.data_root},
      {"HttpProxy", mask_proxy_credentials(env_or_empty("HTTP_PROXY", "http_proxy"))},
      {"HttpsProxy", mask_proxy_credentials(env_or_empty("HTTPS_PROXY", "https_proxy"))},
      {"NoProxy", env_or_empty("NO_PROXY", "no_proxy")},
      {"Name", host.hostname},
      {"Labels", ordered_json::array()},
      {"ExperimentalBuild", false},
      {"ServerVersion", engine.version},
      {"Runtimes", ordered_json::object()},
      {"DefaultRuntime", "none"},
      {"Swarm",
       {{"NodeID", ""},
        {"NodeAddr", ""},
        {"LocalNodeState", "inactive"},
        {"ControlAvailable", false},
        {"Error", ""},
        {"RemoteManagers", nullptr}}},
      {"LiveRestoreEnabled", false},
      {"Isolation", ""},
      {"InitBinary", ""},
      {"ContainerdCommit", {{"ID", ""}}},
      {"RuncCommit", {{"ID", ""}}},
      {"InitCommit", {{"ID", ""}}},
      {"SecurityOptions", ordered_json::array()},
      {"Warnings", warnings},
  };
}

void ping(ResponseWriter& w, bool head) {
  w.add_header("Cache-Control", "no-cache, no-store, must-revalidate");
  w.add_header("Pragma", "no-cache");
  w.add_header("Swarm", "inactive");
  w.text(200, head ? "" : "OK");
}

}  // namespace

void register_system_routes(Router& router, EngineInfo engine, HostFacts host,
                            SystemInfoSource* source) {
  auto shared_engine = std::make_shared<const EngineInfo>(std::move(engine));
  auto shared_host = std::make_shared<const HostFacts>(std::move(host));
  // The /version answer never changes: encode it once.
  auto version_body =
      std::make_shared<const ordered_json>(version_json(*shared_engine, *shared_host));

  router.add(Method::Get, "/_ping", [](Request&, ResponseWriter& w) { ping(w, false); });
  router.add(Method::Head, "/_ping", [](Request&, ResponseWriter& w) { ping(w, true); });
  router.add(Method::Get, "/version",
             [version_body](Request&, ResponseWriter& w) { w.json(200, *version_body); });
  router.add(Method::Get, "/info",
             [shared_engine, shared_host, source](Request&, ResponseWriter& w) {
               std::int64_t images = 0;
               if (source) {
                 auto n = source->image_count();
                 if (!n) {
                   w.error(n.error().context("counting images"));
                   return;
                 }
                 images = *n;
               }
               w.json(200, info_json(*shared_engine, *shared_host, images));
             });
}

}  // namespace imaged::api
