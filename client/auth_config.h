// Registry credentials, stored as the docker CLI does: $DOCKER_CONFIG/config.json (default
// ~/.docker/config.json), "auths": {"<server>": {"auth": base64("user:pass")}}. Other keys in
// the file are kept. Docker Hub is stored under "https://index.docker.io/v1/". Credential
// helpers (credsStore) are not supported. Not thread-safe (one process writes the file).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "common/error.h"

namespace imaged::client {

struct Credentials {
  std::string username;
  std::string password;
};

std::filesystem::path config_file_path();

// The key of a registry in "auths": "docker.io"/"index.docker.io"/"" -> Docker Hub's URL.
std::string auth_key(const std::string& registry);

std::optional<Credentials> load_credentials(const std::string& registry);
// Writes the file (0600), creating the directory.
Status store_credentials(const std::string& registry, const Credentials& credentials);
Status erase_credentials(const std::string& registry);

// The X-Registry-Auth value for `registry`: base64url of {"username","password",
// "serveraddress"}, or "e30=" ({}) when nothing is stored.
std::string registry_auth_header(const std::string& registry);

std::string base64_encode(std::string_view data, bool url = false);
std::string base64_decode(std::string_view data);

}  // namespace imaged::client
