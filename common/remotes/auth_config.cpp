#include "common/remotes/auth_config.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/remotes/base64.h"

namespace imaged::remotes {

using nlohmann::json;

namespace {

// Fills `out` from a JSON object with moby's field names; false on wrong types.
bool fill_from_json(const json& j, AuthConfig& out) {
  if (!j.is_object()) return false;
  auto str = [&](const char* key, std::string& field) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return true;
    if (!it->is_string()) return false;
    field = it->get<std::string>();
    return true;
  };
  std::string legacy_auth, email;
  if (!str("username", out.username) || !str("password", out.password) ||
      !str("identitytoken", out.identity_token) || !str("registrytoken", out.registry_token) ||
      !str("serveraddress", out.server_address) || !str("auth", legacy_auth) ||
      !str("email", email))
    return false;
  if (!legacy_auth.empty() && out.username.empty() && out.password.empty()) {
    auto decoded = base64_decode(legacy_auth);
    if (!decoded) return false;
    auto colon = decoded->find(':');
    if (colon == std::string::npos) return false;
    out.username = decoded->substr(0, colon);
    out.password = decoded->substr(colon + 1);
  }
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

CredentialSource::~CredentialSource() = default;

AuthConfig decode_registry_auth(std::string_view header_value) {
  auto decoded = base64_decode(header_value);
  if (!decoded) return {};
  json j = json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return {};
  AuthConfig out;
  if (!fill_from_json(j, out)) return {};
  return out;
}

std::string encode_registry_auth(const AuthConfig& a) {
  json j = json::object();
  if (!a.username.empty()) j["username"] = a.username;
  if (!a.password.empty()) j["password"] = a.password;
  if (!a.identity_token.empty()) j["identitytoken"] = a.identity_token;
  if (!a.registry_token.empty()) j["registrytoken"] = a.registry_token;
  if (!a.server_address.empty()) j["serveraddress"] = a.server_address;
  return base64_encode(j.dump(), Base64Alphabet::Url);
}

Result<AuthConfig> parse_auth_config_json(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return fail(Errc::InvalidArgument, "invalid auth config: malformed JSON");
  AuthConfig out;
  if (!fill_from_json(j, out))
    return fail(Errc::InvalidArgument, "invalid auth config: unexpected field types");
  return out;
}

std::string redacted(const AuthConfig& a) {
  auto secret = [](const std::string& s) { return s.empty() ? "<none>" : "<redacted>"; };
  return "AuthConfig{username=" + (a.username.empty() ? std::string("<none>") : a.username) +
         ", password=" + secret(a.password) + ", identity_token=" + secret(a.identity_token) +
         ", registry_token=" + secret(a.registry_token) + ", server_address=" + a.server_address +
         "}";
}

std::string credential_key(std::string_view s) {
  if (auto p = s.find("://"); p != std::string_view::npos) s.remove_prefix(p + 3);
  if (auto p = s.find('/'); p != std::string_view::npos) s = s.substr(0, p);
  std::string host = lower(s);
  if (host == "index.docker.io" || host == "registry-1.docker.io" || host == "docker.io" ||
      host == "registry.hub.docker.com")
    return "docker.io";
  return host;
}

void StaticCredentials::set(std::string_view registry, AuthConfig auth) {
  by_key_[credential_key(registry)] = std::move(auth);
}

std::optional<AuthConfig> StaticCredentials::lookup(std::string_view registry) const {
  auto it = by_key_.find(credential_key(registry));
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

Result<DockerConfigCredentials> DockerConfigCredentials::parse(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return fail(Errc::InvalidArgument, "invalid docker config: malformed JSON");
  DockerConfigCredentials out;
  auto auths = j.find("auths");
  if (auths == j.end() || auths->is_null()) return out;
  if (!auths->is_object())
    return fail(Errc::InvalidArgument, "invalid docker config: \"auths\" must be an object");
  for (auto& [registry, entry] : auths->items()) {
    AuthConfig a;
    if (!fill_from_json(entry, a))
      return fail(Errc::InvalidArgument,
                  "invalid docker config: bad credentials for \"" + registry + "\"");
    if (a.empty()) continue;
    a.server_address = registry;
    out.by_key_[credential_key(registry)] = std::move(a);
  }
  return out;
}

Result<DockerConfigCredentials> DockerConfigCredentials::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return fail(Errc::NotFound, "docker config " + path.string() + " does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::Internal, "cannot read docker config " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = parse(ss.str());
  if (!r) return fail(r.error().context(path.string()));
  return r;
}

std::optional<AuthConfig> DockerConfigCredentials::lookup(std::string_view registry) const {
  auto it = by_key_.find(credential_key(registry));
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

}  // namespace imaged::remotes
