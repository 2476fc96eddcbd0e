#include "client/auth_config.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace imaged::client {

namespace {
constexpr const char* kHub = "https://index.docker.io/v1/";

nlohmann::json read_config() {
  std::ifstream in(config_file_path());
  if (!in) return nlohmann::json::object();
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

Status write_config(const nlohmann::json& j) {
  auto path = config_file_path();
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return fail(Errc::Internal, "cannot write " + tmp.string());
    out << j.dump(1, '\t') << "\n";
  }
  ::chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return fail(Errc::Internal, "cannot write " + path.string() + ": " + ec.message());
  return {};
}
}  // namespace

std::filesystem::path config_file_path() {
  if (const char* d = std::getenv("DOCKER_CONFIG"); d && *d)
    return std::filesystem::path(d) / "config.json";
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home ? home : "/") / ".docker" / "config.json";
}

std::string auth_key(const std::string& registry) {
  if (registry.empty() || registry == "docker.io" || registry == "index.docker.io" ||
      registry == "registry-1.docker.io" || registry == kHub)
    return kHub;
  return registry;
}

std::string base64_encode(std::string_view data, bool url) {
  const char* table = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8) |
                 static_cast<unsigned char>(data[i + 2]);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += table[v & 63];
  }
  if (i + 1 == data.size()) {
    unsigned v = static_cast<unsigned char>(data[i]) << 16;
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    unsigned v = (static_cast<unsigned char>(data[i]) << 16) |
                 (static_cast<unsigned char>(data[i + 1]) << 8);
    out += table[(v >> 18) & 63];
    out += table[(v >> 12) & 63];
    out += table[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string base64_decode(std::string_view data) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  unsigned buf = 0;
  int bits = 0;
  for (char c : data) {
    int v = val(c);
    if (v < 0) continue;
    buf = (buf << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buf >> bits) & 0xFF);
    }
  }
  return out;
}

std::optional<Credentials> load_credentials(const std::string& registry) {
  auto j = read_config();
  auto key = auth_key(registry);
  if (!j.contains("auths") || !j["auths"].is_object()) return std::nullopt;
  for (auto& [k, v] : j["auths"].items()) {
    std::string host = k;
    if (host.starts_with("http://")) host = host.substr(7);
    if (host.starts_with("https://") && k != kHub) host = host.substr(8);
    while (host.ends_with("/") && k != kHub) host.pop_back();
    if (k != key && host != key) continue;
    if (!v.is_object() || !v.contains("auth") || !v["auth"].is_string()) continue;
    std::string decoded = base64_decode(v["auth"].get<std::string>());
    auto colon = decoded.find(':');
    if (colon == std::string::npos) continue;
    return Credentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
  }
  return std::nullopt;
}

Status store_credentials(const std::string& registry, const Credentials& c) {
  auto j = read_config();
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = nlohmann::json::object();
  j["auths"][auth_key(registry)] =
      nlohmann::json{{"auth", base64_encode(c.username + ":" + c.password)}};
  return write_config(j);
}

Status erase_credentials(const std::string& registry) {
  auto j = read_config();
  if (j.contains("auths") && j["auths"].is_object()) j["auths"].erase(auth_key(registry));
  return write_config(j);
}

std::string registry_auth_header(const std::string& registry) {
  auto c = load_credentials(registry);
  if (!c) return "e30=";
  nlohmann::json j{
      {"username", c->username}, {"password", c->password}, {"serveraddress", auth_key(registry)}};
  return base64_encode(j.dump(), true);
}

}  // namespace imaged::client
