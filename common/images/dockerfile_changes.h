// The container config of an imported image and the Dockerfile instructions `docker import
// --change` applies to it (moby's dockerfile.BuildFromConfig on an empty container.Config).
//
// Instructions, one per change (case-insensitive keyword): CMD, ENTRYPOINT (JSON exec form, or
// shell form run as ["/bin/sh","-c",…]; ENTRYPOINT clears a Cmd not set by an earlier change),
// ENV (`k=v …` with quotes and backslash escapes, or `k value`), LABEL (the same), EXPOSE
// (`80`, `53/udp`, ranges `8000-8002`), USER, WORKDIR (relative to the previous one), VOLUME
// (JSON array or words), ONBUILD (the instruction text is kept), HEALTHCHECK (NONE, or
// [--interval= --timeout= --start-period= --retries=] CMD …), and STOPSIGNAL (which dockerd 20.10
// refuses). `$VAR` is not expanded. Errors are InvalidArgument: `<keyword> is not a valid change
// command` (lower case, as dockerd words it) and `<KEYWORD> requires …` for missing arguments.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"

namespace imaged::images {

struct ContainerConfig {
  std::string user;
  std::set<std::string> exposed_ports;  // "80/tcp"
  std::optional<std::vector<std::string>> env, cmd, entrypoint, on_build;
  std::optional<std::set<std::string>> volumes;
  std::string working_dir;
  std::optional<std::map<std::string, std::string>> labels;
  std::string stop_signal;
  // HEALTHCHECK: Test ("NONE" / "CMD" … / "CMD-SHELL" cmd), durations in ns, retries.
  struct Health {
    std::vector<std::string> test;
    int64_t interval = 0, timeout = 0, start_period = 0;
    int retries = 0;
  };
  std::optional<Health> healthcheck;
};

// Applies the changes in order. On error `config` may be partly changed.
Status apply_dockerfile_changes(ContainerConfig& config, const std::vector<std::string>& changes);

// The config as Go's encoding/json writes moby's container.Config (field order, null for unset
// lists and maps, ExposedPorts and StopSignal omitted when empty).
nlohmann::ordered_json container_config_json(const ContainerConfig& config);

}  // namespace imaged::images
