// The configuration steps between a create request and a running process, as dockerd does them:
// the image's defaults merged into the container config, the user and groups resolved in the
// container's own /etc/passwd and /etc/group, the process environment, the bind mounts.
// Pure functions (resolve_user reads two files of the rootfs).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/containers/launcher.h"
#include "common/error.h"

namespace imaged::containers {

// moby daemon/commit.go merge(): fills what the user left unset (User, Env entries whose key
// is missing, Labels, ExposedPorts, Volumes, Cmd/Entrypoint, WorkingDir, Healthcheck,
// StopSignal) from the image's config. Cmd comes from the image only when the user gave neither
// Cmd nor Entrypoint; Entrypoint only when the user's is null.
nlohmann::json merge_image_config(nlohmann::json user, const nlohmann::json& image);

// The command line: Entrypoint + Cmd. Empty when the config has neither.
std::vector<std::string> command_line(const nlohmann::json& config);
// The arguments joined by spaces, as dockerd shows a command ("sh -c echo hi").
std::string join_command(const std::vector<std::string>& args);

// The strings of a JSON string or array of strings (anything else: none).
std::vector<std::string> string_list(const nlohmann::json& value);
// "K=V" entries: `first`, then those of `defaults` whose key `first` lacks.
std::vector<std::string> merge_env(std::vector<std::string> first,
                                   const std::vector<std::string>& defaults);
// ConsoleSize [rows, cols] of a HostConfig or an exec start body; {0, 0} when absent or bad.
std::pair<unsigned short, unsigned short> console_size(const nlohmann::json& object);

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups from /etc/group
  std::string home = "/";
};

// Resolves `user` ("", "name", "uid", "name:group", "uid:gid") as runc's user package does.
// Errors: InvalidArgument "unable to find user x: no matching entries in passwd file".
Result<Identity> resolve_user(const std::filesystem::path& rootfs, std::string_view user);

// The environment of the process: Env, then PATH (when missing), HOSTNAME and HOME, as dockerd
// and runc add them.
std::vector<std::string> process_env(const nlohmann::json& config, const std::string& hostname,
                                     const std::string& home);

// HostConfig.Binds ("/host:/container[:ro|rw|z|Z...]") and HostConfig.Mounts of type "bind".
// Errors: InvalidArgument for a malformed entry, a relative host path, or a named volume (imaged
// manages no volumes).
Result<std::vector<BindMount>> bind_mounts(const nlohmann::json& host_config);

}  // namespace imaged::containers
