#include "api/container_json.h"

#include "common/containers/container_config.h"
#include "common/images/timestamps.h"

namespace imaged::api {

using containers::Container;
using containers::Snapshot;
using containers::State;
using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string time_text(int64_t ns) {
  return images::format_rfc3339_nano(ns == 0 ? images::kZeroTimeNs : ns);
}

std::string network_name(const json& host_config) {
  return host_config.value("NetworkMode", "") == "host" ? "host" : "none";
}

ordered_json mounts_json(const json& host_config) {
  ordered_json out = ordered_json::array();
  auto binds = containers::bind_mounts(host_config);
  if (!binds) return out;
  for (const auto& b : *binds)
    out.push_back({{"Type", "bind"},
                   {"Source", b.source},
                   {"Destination", b.target},
                   {"Mode", b.read_only ? "ro" : ""},
                   {"RW", !b.read_only},
                   {"Propagation", "rprivate"}});
  return out;
}

}  // namespace

std::string human_duration(int64_t ns) {
  double seconds_f = static_cast<double>(ns) / 1e9;
  auto seconds = static_cast<int64_t>(seconds_f);
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  auto hours = static_cast<int64_t>(seconds_f / 3600 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(static_cast<int64_t>(seconds_f / 3600 / 24 / 365)) + " years";
}

std::string container_status_text(const Snapshot& s, int64_t now_ns) {
  switch (s.state) {
    case State::Running:
      return "Up " + human_duration(now_ns - s.started_ns);
    case State::Removing:
      return "Removal In Progress";
    case State::Exited:
      if (s.finished_ns == 0) return "";
      return "Exited (" + std::to_string(s.exit_code) + ") " +
             human_duration(now_ns - s.finished_ns) + " ago";
    case State::Created:
      return "Created";
  }
  return "";
}

ordered_json container_inspect_json(const Container& c) {
  const auto& def = c.def();
  Snapshot s = c.snapshot();
  auto args = containers::command_line(def.config);
  std::string path = args.empty() ? "" : args.front();
  if (!args.empty()) args.erase(args.begin());
  std::string network = network_name(def.host_config);
  ordered_json out;
  out["Id"] = def.id;
  out["Created"] = time_text(def.created_ns);
  out["Path"] = path;
  out["Args"] = args;
  out["State"] = {{"Status", containers::state_name(s.state)},
                  {"Running", s.state == State::Running},
                  {"Paused", false},
                  {"Restarting", false},
                  {"OOMKilled", false},
                  {"Dead", false},
                  {"Pid", s.pid},
                  {"ExitCode", s.exit_code},
                  {"Error", s.error},
                  {"StartedAt", time_text(s.started_ns)},
                  {"FinishedAt", time_text(s.finished_ns)}};
  out["Image"] = def.image_id;
  std::string etc = (def.own_files() / "etc").string() + "/";
  out["ResolvConfPath"] = etc + "resolv.conf";
  out["HostnamePath"] = etc + "hostname";
  out["HostsPath"] = etc + "hosts";
  out["LogPath"] = "";
  out["Name"] = "/" + def.name;
  out["RestartCount"] = 0;
  const bool overlay = !def.lower.empty();
  out["Driver"] = overlay ? "overlay2" : "vfs";
  out["Platform"] = "linux";
  out["MountLabel"] = "";
  out["ProcessLabel"] = "";
  out["AppArmorProfile"] = "";
  out["ExecIDs"] = nullptr;
  out["HostConfig"] = def.host_config;
  if (overlay)
    out["GraphDriver"] = {{"Data",
                           {{"LowerDir", def.lower.string()},
                            {"MergedDir", def.rootfs().string()},
                            {"UpperDir", def.upper().string()},
                            {"WorkDir", def.work().string()}}},
                          {"Name", "overlay2"}};
  else
    out["GraphDriver"] = {{"Data", {{"Dir", def.rootfs().string()}}}, {"Name", "vfs"}};
  out["Mounts"] = mounts_json(def.host_config);
  out["Config"] = def.config;
  out["NetworkSettings"] = {{"Bridge", ""},
                            {"SandboxID", ""},
                            {"SandboxKey", ""},
                            {"Ports", ordered_json::object()},
                            {"Networks",
                             {{network,
                               {{"IPAMConfig", nullptr},
                                {"Links", nullptr},
                                {"Aliases", nullptr},
                                {"MacAddress", ""},
                                {"NetworkID", ""},
                                {"EndpointID", ""},
                                {"Gateway", ""},
                                {"IPAddress", ""},
                                {"IPPrefixLen", 0},
                                {"IPv6Gateway", ""},
                                {"GlobalIPv6Address", ""},
                                {"GlobalIPv6PrefixLen", 0},
                                {"DriverOpts", nullptr},
                                {"DNSNames", nullptr}}}}}};
  return out;
}

ordered_json container_summary_json(const Container& c, int64_t now_ns) {
  const auto& def = c.def();
  Snapshot s = c.snapshot();
  std::string command = containers::join_command(containers::command_line(def.config));
  ordered_json out;
  out["Id"] = def.id;
  out["Names"] = {"/" + def.name};
  out["Image"] = def.image_ref;
  out["ImageID"] = def.image_id;
  out["Command"] = command;
  out["Created"] = images::unix_seconds(def.created_ns);
  out["Ports"] = ordered_json::array();
  json labels = def.config.value("Labels", json::object());
  out["Labels"] = labels.is_object() ? labels : json::object();
  out["State"] = containers::state_name(s.state);
  out["Status"] = container_status_text(s, now_ns);
  out["HostConfig"] = {{"NetworkMode", def.host_config.value("NetworkMode", "default")}};
  out["NetworkSettings"] = {{"Networks", ordered_json::object()}};
  out["Mounts"] = mounts_json(def.host_config);
  return out;
}

}  // namespace imaged::api
