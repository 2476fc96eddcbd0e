#include "common/containers/container_config.h"

#include <charconv>
#include <fstream>
#include <optional>
#include <set>

namespace imaged::containers {

using nlohmann::json;

namespace {

bool empty_value(const json& v) {
  return v.is_null() || (v.is_array() || v.is_object() ? v.empty() : v == "");
}

std::string env_key(const std::string& kv) { return kv.substr(0, kv.find('=')); }

std::optional<unsigned> parse_id(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// The lines of /etc/passwd or /etc/group, split on ':'.
std::vector<std::vector<std::string>> colon_file(const std::filesystem::path& path) {
  std::vector<std::vector<std::string>> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t pos = 0;
    for (std::size_t end; (end = line.find(':', pos)) != std::string::npos; pos = end + 1)
      fields.push_back(line.substr(pos, end - pos));
    fields.push_back(line.substr(pos));
    rows.push_back(std::move(fields));
  }
  return rows;
}

}  // namespace

json merge_image_config(json user, const json& image) {
  if (!user.is_object()) user = json::object();
  if (!image.is_object()) return user;
  auto image_value = [&](const char* key) { return image.contains(key) ? image[key] : json(); };
  if (user.value("User", "").empty() && image.contains("User")) user["User"] = image["User"];
  for (const char* key : {"ExposedPorts", "Labels"}) {
    json merged = user.contains(key) && user[key].is_object() ? user[key] : json::object();
    if (auto from = image_value(key); from.is_object())
      for (auto& [k, v] : from.items())
        if (!merged.contains(k)) merged[k] = v;
    if (!merged.empty() || std::string_view(key) == "Labels") user[key] = merged;
  }
  auto env = merge_env(string_list(user.value("Env", json())), string_list(image_value("Env")));
  user["Env"] = env.empty() ? json() : json(env);
  if (empty_value(user.value("Entrypoint", json()))) {
    if (empty_value(user.value("Cmd", json()))) user["Cmd"] = image_value("Cmd");
    if (user.value("Entrypoint", json()).is_null()) user["Entrypoint"] = image_value("Entrypoint");
  }
  for (const char* key : {"WorkingDir", "StopSignal"})
    if (user.value(key, "").empty() && image.contains(key)) user[key] = image[key];
  for (const char* key : {"Volumes", "Healthcheck"}) {
    if (empty_value(user.value(key, json()))) user[key] = nullptr;  // dockerd shows null, not {}
    if (user[key].is_null() && !empty_value(image_value(key))) user[key] = image[key];
  }
  return user;
}

std::vector<std::string> string_list(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) out.push_back(v.get<std::string>());
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

std::vector<std::string> merge_env(std::vector<std::string> first,
                                   const std::vector<std::string>& defaults) {
  std::set<std::string> keys;
  for (const auto& kv : first) keys.insert(env_key(kv));
  for (const auto& kv : defaults)
    if (!keys.contains(env_key(kv))) first.push_back(kv);
  return first;
}

std::pair<unsigned short, unsigned short> console_size(const json& object) {
  auto size = object.value("ConsoleSize", json());
  auto dimension = [](const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0; };
  if (!size.is_array() || size.size() != 2 || !dimension(size[0]) || !dimension(size[1]))
    return {0, 0};
  return {size[0].get<unsigned short>(), size[1].get<unsigned short>()};
}

std::string join_command(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& arg : args) out += (out.empty() ? "" : " ") + arg;
  return out;
}

std::vector<std::string> command_line(const json& config) {
  auto args = string_list(config.value("Entrypoint", json()));
  for (auto& a : string_list(config.value("Cmd", json()))) args.push_back(std::move(a));
  return args;
}

Result<Identity> resolve_user(const std::filesystem::path& rootfs, std::string_view user) {
  Identity id;
  std::string_view name = user, group;
  if (auto colon = user.find(':'); colon != std::string_view::npos) {
    name = user.substr(0, colon);
    group = user.substr(colon + 1);
  }
  auto passwd = colon_file(rootfs / "etc/passwd");
  const std::vector<std::string>* entry = nullptr;
  auto numeric = parse_id(name);
  for (const auto& row : passwd) {
    if (row.size() < 7) continue;
    if ((name.empty() && row[2] == "0") || row[0] == name || (numeric && row[2] == name)) {
      entry = &row;
      break;
    }
  }
  if (entry) {
    id.uid = parse_id((*entry)[2]).value_or(0);
    id.gid = parse_id((*entry)[3]).value_or(0);
    id.home = (*entry)[5].empty() ? "/" : (*entry)[5];
  } else if (numeric) {
    id.uid = *numeric;
  } else if (!name.empty()) {
    return fail(Errc::InvalidArgument, "unable to find user " + std::string(name) +
                                           ": no matching entries in passwd file");
  }
  auto groups = colon_file(rootfs / "etc/group");
  if (!group.empty()) {
    auto gid = parse_id(group);
    bool found = false;
    for (const auto& row : groups)
      if (row.size() >= 3 && (row[0] == group || (gid && row[2] == group))) {
        id.gid = parse_id(row[2]).value_or(0);
        found = true;
        break;
      }
    if (!found && !gid)
      return fail(Errc::InvalidArgument, "unable to find group " + std::string(group) +
                                             ": no matching entries in group file");
    if (!found) id.gid = *gid;
  }
  if (entry) {
    for (const auto& row : groups) {
      if (row.size() < 4) continue;
      std::string members = "," + row[3] + ",";
      if (members.find("," + (*entry)[0] + ",") != std::string::npos)
        if (auto g = parse_id(row[2])) id.groups.push_back(*g);
    }
  }
  return id;
}

std::vector<std::string> process_env(const json& config, const std::string& hostname,
                                     const std::string& home) {
  auto env = string_list(config.value("Env", json()));
  std::set<std::string> keys;
  for (const auto& kv : env) keys.insert(env_key(kv));
  if (!keys.contains("PATH")) env.insert(env.begin(), "PATH=" + std::string(kDefaultPath));
  if (!keys.contains("HOSTNAME")) env.push_back("HOSTNAME=" + hostname);
  if (!keys.contains("HOME")) env.push_back("HOME=" + home);
  return env;
}

Result<std::vector<BindMount>> bind_mounts(const json& host_config) {
  std::vector<BindMount> out;
  auto add = [&](std::string source, std::string target, bool ro) -> Status {
    if (source.empty() || target.empty())
      return fail(Errc::InvalidArgument,
                  "invalid volume specification: '" + source + ":" + target + "'");
    if (source[0] != '/')
      return fail(Errc::InvalidArgument,
                  "imaged manages no volumes: use an absolute host path for " + source);
    if (target[0] != '/')
      return fail(
          Errc::InvalidArgument,
          "invalid mount config: the mount destination must be an absolute path: " + target);
    out.push_back({std::move(source), std::move(target), ro});
    return {};
  };
  for (const auto& spec : string_list(host_config.value("Binds", json()))) {
    std::vector<std::string> parts;
    std::size_t pos = 0;
    for (std::size_t end; (end = spec.find(':', pos)) != std::string::npos; pos = end + 1)
      parts.push_back(spec.substr(pos, end - pos));
    parts.push_back(spec.substr(pos));
    if (parts.size() < 2 || parts.size() > 3)
      return fail(Errc::InvalidArgument, "invalid volume specification: '" + spec + "'");
    bool ro = parts.size() == 3 && parts[2].find("ro") != std::string::npos;
    IMAGED_TRY(add(parts[0], parts[1], ro));
  }
  if (auto mounts = host_config.value("Mounts", json()); mounts.is_array())
    for (const auto& m : mounts) {
      if (!m.is_object()) return fail(Errc::InvalidArgument, "invalid mount: not an object");
      if (m.value("Type", "") != "bind")
        return fail(Errc::InvalidArgument, "imaged manages no volumes: mount type \"" +
                                               m.value("Type", "") +
                                               "\" is not supported, use type=bind");
      IMAGED_TRY(add(m.value("Source", ""), m.value("Target", ""), m.value("ReadOnly", false)));
    }
  return out;
}

}  // namespace imaged::containers
