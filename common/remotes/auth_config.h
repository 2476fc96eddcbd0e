// Registry credentials: the X-Registry-Auth header the docker CLI sends, Docker-style
// config.json files, and the CredentialSource role the registry client asks per registry.
//
// Credentials never appear in logs or error messages: format them with redacted() only.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged::remotes {

// The JSON the CLI base64-encodes into X-Registry-Auth (moby's registry.AuthConfig).
struct AuthConfig {
  std::string username;
  std::string password;
  std::string identity_token;  // a refresh token from a previous login ("identitytoken")
  std::string registry_token;  // a bearer token to send as is ("registrytoken")
  std::string server_address;  // informative; the registry is the request's

  // True when nothing usable is set.
  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
  bool operator==(const AuthConfig&) const = default;
};

// Decodes an X-Registry-Auth value: base64url with padding as the CLI sends it, also the std
// alphabet and missing padding. "e30=" ({}) gives an empty AuthConfig. Anything undecodable
// (bad base64, bad JSON, wrong field types) also gives an empty AuthConfig, as dockerd ignores
// it. A legacy "auth" field ("user:pass" in base64) fills username/password when they are empty.
AuthConfig decode_registry_auth(std::string_view header_value);

// The X-Registry-Auth value for `auth` (base64url with padding of the JSON), for clients/tests.
std::string encode_registry_auth(const AuthConfig& auth);

// Parses the JSON body of POST /auth (same fields as X-Registry-Auth). InvalidArgument on
// malformed JSON or wrong field types.
Result<AuthConfig> parse_auth_config_json(std::string_view json);

// "AuthConfig{username=foo, password=<redacted>, identity_token=<none>, ...}": safe to log.
std::string redacted(const AuthConfig& auth);

// The key a registry's credentials are stored under and looked up by: "docker.io" for Docker Hub
// (whatever spelling: "https://index.docker.io/v1/", "registry-1.docker.io", "index.docker.io"),
// else the host[:port] with any scheme and path stripped, lower-cased.
std::string credential_key(std::string_view registry_or_url);

// Where the registry client gets credentials for a registry it talks to (a domain such as
// "docker.io" or "127.0.0.1:5000", or a mirror's host). Implementations must be thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource();
  // nullopt when nothing is known for `registry`.
  virtual std::optional<AuthConfig> lookup(std::string_view registry) const = 0;
};

// No credentials at all (anonymous access only).
class NoCredentials final : public CredentialSource {
 public:
  std::optional<AuthConfig> lookup(std::string_view) const override { return std::nullopt; }
};

// A fixed map registry → credentials, keyed by credential_key().
class StaticCredentials final : public CredentialSource {
 public:
  StaticCredentials() = default;
  void set(std::string_view registry, AuthConfig auth);
  std::optional<AuthConfig> lookup(std::string_view registry) const override;

 private:
  std::map<std::string, AuthConfig> by_key_;
};

// Credentials from a Docker-style config.json ({"auths": {"<registry>": {"auth": base64
// "user:pass", "identitytoken": ...}}}). Credential helpers ("credsStore", "credHelpers") are
// not supported and ignored. Immutable after loading, so thread-safe.
class DockerConfigCredentials final : public CredentialSource {
 public:
  // InvalidArgument for malformed JSON or an "auth" that does not decode to "user:pass".
  static Result<DockerConfigCredentials> parse(std::string_view json);
  // NotFound if the file does not exist; Internal on read errors; errors of parse() otherwise.
  static Result<DockerConfigCredentials> load(const std::filesystem::path& path);

  std::optional<AuthConfig> lookup(std::string_view registry) const override;
  size_t size() const { return by_key_.size(); }

 private:
  std::map<std::string, AuthConfig> by_key_;
};

}  // namespace imaged::remotes
