// System routes: GET/HEAD /_ping, GET /version, GET /info, and the 404 probes `docker inspect`
// walks through (containers, networks, volumes, plugins) before and after trying images.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/host_info.h"
#include "common/error.h"

namespace imaged::api {

class Router;

// What the daemon knows about itself (filled by the composition root).
struct EngineInfo {
  std::string version;     // imaged version, "0.1.0"
  std::string git_commit;  // short hash, may be empty
  std::string build_time;  // RFC 3339, may be empty
  std::string compiler;    // shown as GoVersion, e.g. "gcc 12.2.0"
  std::string id;          // stable engine ID (persisted in the data root)
  std::string data_root;
  std::string driver = "imaged";                 // Info.Driver
  std::vector<std::string> registry_mirrors;     // normalised "https://mirror.example/"
  std::vector<std::string> insecure_registries;  // "host:port" or CIDR
  bool debug = false;
  std::vector<std::string> warnings;  // Info.Warnings (null when empty)
};

// Live numbers for /info, supplied by the image store once it exists.
// Thread safety: called concurrently from worker threads.
class SystemInfoSource {
 public:
  virtual ~SystemInfoSource() = default;
  // Number of distinct image IDs (not tags), as dockerd's Info.Images.
  virtual Result<std::int64_t> image_count() = 0;
};

// Registers /_ping (GET, HEAD), /version and /info. `source` may be null (Images: 0) and must
// outlive the router's use.
void register_system_routes(Router& router, EngineInfo engine, HostFacts host,
                            SystemInfoSource* source);

}  // namespace imaged::api
