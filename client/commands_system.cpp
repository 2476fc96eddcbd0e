// System commands: version, info, events.
#include <ctime>
#include <iostream>
#include <regex>

#include "client/cli.h"
#include "client/format.h"

namespace imaged::client {

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  if (j[key].is_string()) return j[key].get<std::string>();
  return j[key].dump();
}

int cmd_version(Context& ctx, const ParsedArgs& a) {
  json client {
    {"Version", IMAGED_VERSION}, {"Os", "linux"},
#if defined(__x86_64__)
        {"Arch", "amd64"}
#elif defined(__aarch64__)
        {"Arch", "arm64"}
#else
    {
      "Arch", "unknown"
    }
#endif
  };
  auto http = ctx.http();
  Result<json> server =
      http ? (*http)->get_json("/version") : Result<json>(std::unexpected(http.error()));
  std::string format = a.get("format");
  if (!format.empty()) {
    json doc{{"Client", client}, {"Server", server ? *server : json(nullptr)}};
    auto line =
        format == "json" ? Result<std::string>(doc.dump()) : expand_json_template(format, doc);
    if (!line) return ctx.usage(line.error().message);
    ctx.out << *line << "\n";
    if (!server) return ctx.fail(server.error().message);
    return kExitOk;
  }
  ctx.out << "Client:\n Version:           " << IMAGED_VERSION << "\n OS/Arch:           linux/"
          << client["Arch"].get<std::string>() << "\n\n";
  if (!server) {
    ctx.out << std::flush;
    return ctx.fail(server.error().message);
  }
  ctx.out << "Server:\n Engine:\n  Version:          " << str(*server, "Version")
          << "\n  API version:      " << str(*server, "ApiVersion") << " (minimum version "
          << str(*server, "MinAPIVersion") << ")\n  Git commit:       " << str(*server, "GitCommit")
          << "\n  Built:            " << str(*server, "BuildTime")
          << "\n  OS/Arch:          " << str(*server, "Os") << "/" << str(*server, "Arch") << "\n"
          << std::flush;
  return kExitOk;
}

int cmd_info(Context& ctx, const ParsedArgs& a) {
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  auto info = (*http)->get_json("/info");
  if (!info) return ctx.fail(info.error().message);
  std::string format = a.get("format");
  if (!format.empty()) {
    auto line =
        format == "json" ? Result<std::string>(info->dump()) : expand_json_template(format, *info);
    if (!line) return ctx.usage(line.error().message);
    ctx.out << *line << "\n";
    return kExitOk;
  }
  auto& i = *info;
  ctx.out << "Server:\n Images: " << str(i, "Images")
          << "\n Server Version: " << str(i, "ServerVersion")
          << "\n Storage Driver: " << str(i, "Driver") << "\n";
  if (i.contains("DriverStatus") && i["DriverStatus"].is_array())
    for (auto& kv : i["DriverStatus"])
      if (kv.is_array() && kv.size() == 2)
        ctx.out << "  " << str(json{{"v", kv[0]}}, "v") << ": " << str(json{{"v", kv[1]}}, "v")
                << "\n";
  ctx.out << " Kernel Version: " << str(i, "KernelVersion")
          << "\n Operating System: " << str(i, "OperatingSystem")
          << "\n OSType: " << str(i, "OSType") << "\n Architecture: " << str(i, "Architecture")
          << "\n CPUs: " << str(i, "NCPU") << "\n Total Memory: "
          << (i.contains("MemTotal") && i["MemTotal"].is_number()
                  ? human_size(i["MemTotal"].get<double>(), 4)
                  : str(i, "MemTotal"))
          << "\n Name: " << str(i, "Name") << "\n ID: " << str(i, "ID")
          << "\n Docker Root Dir: " << str(i, "DockerRootDir") << "\n";
  if (i.contains("RegistryConfig") && i["RegistryConfig"].is_object()) {
    auto& rc = i["RegistryConfig"];
    if (rc.contains("Mirrors") && rc["Mirrors"].is_array() && !rc["Mirrors"].empty()) {
      ctx.out << " Registry Mirrors:\n";
      for (auto& m : rc["Mirrors"])
        ctx.out << "  " << (m.is_string() ? m.get<std::string>() : m.dump()) << "\n";
    }
  }
  if (i.contains("Warnings") && i["Warnings"].is_array())
    for (auto& w : i["Warnings"])
      if (w.is_string()) ctx.err << w.get<std::string>() << "\n";
  ctx.out << std::flush;
  return kExitOk;
}

// "10m", "1h30m", "45s" -> seconds; nullopt for anything else (a timestamp, passed through).
std::optional<std::int64_t> parse_duration(const std::string& text) {
  static const std::regex kDur(R"(^((\d+)h)?((\d+)m)?((\d+)s)?$)");
  std::smatch m;
  if (text.empty() || !std::regex_match(text, m, kDur)) return std::nullopt;
  std::int64_t s = 0;
  if (m[2].matched) s += std::stoll(m[2]) * 3600;
  if (m[4].matched) s += std::stoll(m[4]) * 60;
  if (m[6].matched) s += std::stoll(m[6]);
  return s;
}

std::string event_line(const json& e) {
  std::int64_t nano = e.contains("timeNano") && e["timeNano"].is_number()
                          ? e["timeNano"].get<std::int64_t>()
                          : (e.contains("time") && e["time"].is_number()
                                 ? e["time"].get<std::int64_t>() * 1000000000
                                 : 0);
  std::time_t secs = nano / 1000000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%09lldZ", static_cast<long long>(nano % 1000000000));
  std::string line = std::string(buf) + frac + " " + str(e, "Type") + " " + str(e, "Action");
  json actor = e.contains("Actor") ? e["Actor"] : json::object();
  std::string id = str(actor, "ID");
  if (!id.empty()) line += " " + id;
  if (actor.contains("Attributes") && actor["Attributes"].is_object() &&
      !actor["Attributes"].empty()) {
    std::string attrs;
    for (auto& [k, v] : actor["Attributes"].items())
      attrs +=
          (attrs.empty() ? "" : ", ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
    line += " (" + attrs + ")";
  }
  return line;
}

int cmd_events(Context& ctx, const ParsedArgs& a) {
  HttpRequest req{.path = "/events"};
  for (const char* key : {"since", "until"}) {
    if (!a.has(key)) continue;
    std::string v = a.get(key);
    if (auto d = parse_duration(v)) v = std::to_string(ctx.now - *d);
    req.query.emplace_back(key, v);
  }
  json filters = json::object();
  for (auto& f : a.all("filter")) {
    auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0)
      return ctx.usage("bad format of filter (expected name=value): " + f);
    filters[f.substr(0, eq)][f.substr(eq + 1)] = true;
  }
  if (!filters.empty()) req.query.emplace_back("filters", filters.dump());
  std::string format = a.get("format");
  if (!format.empty() && format != "json") {
    if (auto probe = expand_json_template(format, json::object()); !probe)
      return ctx.usage(probe.error().message);
  }
  auto http = ctx.http();
  if (!http) return ctx.fail(http.error().message);
  std::string pending;
  std::string failure;
  req.on_data = [&](std::string_view bytes) {
    pending.append(bytes);
    std::size_t pos;
    while ((pos = pending.find('\n')) != std::string::npos) {
      std::string line = pending.substr(0, pos);
      pending.erase(0, pos + 1);
      if (line.empty() || line == "\r") continue;
      auto e = json::parse(line, nullptr, false);
      if (e.is_discarded()) continue;
      if (format == "json")
        ctx.out << e.dump() << "\n";
      else if (!format.empty())
        ctx.out << expand_json_template(format, e).value_or("") << "\n";
      else
        ctx.out << event_line(e) << "\n";
      ctx.out << std::flush;
    }
    return true;
  };
  auto r = (*http)->call(req);
  if (!r) return ctx.fail(r.error().message);
  return kExitOk;
}

}  // namespace

std::vector<Command> system_commands() {
  return {
      Command{
          .name = "events",
          .aliases = {"system events"},
          .usage = "imagectl events [OPTIONS]",
          .summary = "Get real time events from the daemon",
          .examples = "  imagectl events --since 10m --until 0s\n"
                      "  imagectl events --filter type=image --filter event=tag\n"
                      "  imagectl events --format '{{.Action}} {{.Actor.ID}}'\n",
          .options = {{"filter", 'f', true, "filter", "Filter output based on conditions provided"},
                      {"format", 0, true, "string",
                       "Format output: json, or a template such as '{{.Action}} {{json .Actor}}'"},
                      {"since", 0, true, "string",
                       "Show all events created since timestamp or duration (10m)"},
                      {"until", 0, true, "string",
                       "Stream events until this timestamp or duration"}},
          .max_args = 0,
          .run = cmd_events},
      Command{
          .name = "version",
          .usage = "imagectl version [OPTIONS]",
          .summary = "Show the imagectl and imaged version information",
          .examples = "  imagectl version\n  imagectl version --format '{{.Server.ApiVersion}}'\n",
          .options =
              {{"format", 'f', true, "string",
                "Format output: json or a template ({{.Client.Version}}, {{.Server.Version}})"}},
          .max_args = 0,
          .run = cmd_version},
      Command{.name = "info",
              .aliases = {"system info"},
              .usage = "imagectl info [OPTIONS]",
              .summary = "Display system-wide information",
              .examples = "  imagectl info\n  imagectl info --format '{{.DockerRootDir}}'\n",
              .options = {{"format", 'f', true, "string",
                           "Format output: json or a template ({{.Images}})"}},
              .max_args = 0,
              .run = cmd_info},
  };
}

}  // namespace imaged::client
