#include "api/image_json.h"

#include <array>
#include <string_view>

#include "api/json_stream.h"
#include "common/images/timestamps.h"

namespace imaged::api {

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json string_list(const std::vector<std::string>& v, bool null_when_empty) {
  if (v.empty() && null_when_empty) return nullptr;
  ordered_json out = ordered_json::array();
  for (const auto& s : v) out.push_back(s);
  return out;
}

ordered_json to_ordered(const json& j) { return ordered_json::parse(j.dump()); }

// Tags and digests: placeholders below 1.43 for an image with no name at all.
struct Names {
  ordered_json tags, digests;
};
Names names_json(const images::ImageSummary& s, ApiVersion v) {
  if (v.at_least(1, 43))
    return {string_list(s.repo_tags, false), string_list(s.repo_digests, false)};
  if (s.repo_tags.empty() && s.repo_digests.empty())
    return {ordered_json::array({"<none>:<none>"}), ordered_json::array({"<none>@<none>"})};
  return {string_list(s.repo_tags, true), string_list(s.repo_digests, true)};
}

// True when `s` can be written between quotes as is (Go would not escape anything in it).
bool plain_json_string(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&')
      return false;
  }
  return true;
}

void append_string(std::string& out, std::string_view s) {
  if (plain_json_string(s)) {
    out += '"';
    out += s;
    out += '"';
  } else {
    out += go_json(json(std::string(s)));
  }
}

void append_list(std::string& out, const std::vector<std::string>& v, bool null_when_empty) {
  if (v.empty() && null_when_empty) {
    out += "null";
    return;
  }
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    append_string(out, v[i]);
  }
  out += ']';
}

// Go's container.Config fields in order; `omitempty` ones are left out when absent or empty.
struct ConfigField {
  const char* name;
  enum Kind { String, Bool, List, Map, Object, Int } kind;
  bool omitempty;
  bool legacy_only;  // dropped from 1.50 on (the OCI image config has no such field)
};
constexpr std::array kConfigFields = {
    ConfigField{"Hostname", ConfigField::String, false, true},
    ConfigField{"Domainname", ConfigField::String, false, true},
    ConfigField{"User", ConfigField::String, false, false},
    ConfigField{"AttachStdin", ConfigField::Bool, false, true},
    ConfigField{"AttachStdout", ConfigField::Bool, false, true},
    ConfigField{"AttachStderr", ConfigField::Bool, false, true},
    ConfigField{"ExposedPorts", ConfigField::Map, true, false},
    ConfigField{"Tty", ConfigField::Bool, false, true},
    ConfigField{"OpenStdin", ConfigField::Bool, false, true},
    ConfigField{"StdinOnce", ConfigField::Bool, false, true},
    ConfigField{"Env", ConfigField::List, false, false},
    ConfigField{"Cmd", ConfigField::List, false, false},
    ConfigField{"Healthcheck", ConfigField::Object, true, false},
    ConfigField{"ArgsEscaped", ConfigField::Bool, true, false},
    ConfigField{"Image", ConfigField::String, false, true},
    ConfigField{"Volumes", ConfigField::Map, false, false},
    ConfigField{"WorkingDir", ConfigField::String, false, false},
    ConfigField{"Entrypoint", ConfigField::List, false, false},
    ConfigField{"NetworkDisabled", ConfigField::Bool, true, false},
    ConfigField{"MacAddress", ConfigField::String, true, false},
    ConfigField{"OnBuild", ConfigField::List, false, false},
    ConfigField{"Labels", ConfigField::Map, false, false},
    ConfigField{"StopSignal", ConfigField::String, true, false},
    ConfigField{"StopTimeout", ConfigField::Int, true, false},
    ConfigField{"Shell", ConfigField::List, true, false},
};

bool is_empty_value(const json& j) {
  return j.is_null() || (j.is_string() && j.get_ref<const std::string&>().empty()) ||
         (j.is_boolean() && !j.get<bool>()) || ((j.is_array() || j.is_object()) && j.empty()) ||
         (j.is_number() && j == 0);
}

ordered_json zero_value(ConfigField::Kind kind) {
  switch (kind) {
    case ConfigField::String:
      return "";
    case ConfigField::Bool:
      return false;
    case ConfigField::Int:
      return 0;
    default:
      return nullptr;
  }
}

}  // namespace

ordered_json container_config_json(const json& raw, ApiVersion v, bool zero_if_null) {
  if (!raw.is_object() && !zero_if_null) return nullptr;
  const bool slim = v.at_least(1, 50);
  const bool omit_empty = v.at_least(1, 52);
  ordered_json out = ordered_json::object();
  for (const ConfigField& f : kConfigFields) {
    if (slim && f.legacy_only) continue;
    const json* value = nullptr;
    if (raw.is_object()) {
      auto it = raw.find(f.name);
      if (it != raw.end()) value = &*it;
    }
    const bool empty = !value || is_empty_value(*value);
    if (empty && (f.omitempty || omit_empty)) continue;
    out[f.name] = value && !value->is_null() ? to_ordered(*value) : zero_value(f.kind);
  }
  return out;
}

ordered_json image_summary_json(const images::ImageSummary& s, ApiVersion v,
                                SummaryContext context) {
  Names names = names_json(s, v);
  ordered_json out;
  out["Containers"] = context == SummaryContext::List && !v.at_least(1, 51) ? -1 : s.containers;
  out["Created"] = s.created;
  out["Id"] = s.id.str();
  out["Labels"] = s.labels.is_object() && !s.labels.empty() ? to_ordered(s.labels) : nullptr;
  out["ParentId"] = "";
  out["RepoDigests"] = std::move(names.digests);
  out["RepoTags"] = std::move(names.tags);
  out["SharedSize"] = s.shared_size;
  out["Size"] = s.size;
  if (!v.at_least(1, 44)) out["VirtualSize"] = s.size;
  return out;
}

std::string image_list_json_text(const std::vector<images::ImageSummary>& list, ApiVersion v) {
  size_t reserve = 2;
  for (const auto& s : list) {
    reserve += 300;
    for (const auto& t : s.repo_tags) reserve += t.size() + 3;
    for (const auto& d : s.repo_digests) reserve += d.size() + 3;
  }
  std::string out;
  out.reserve(reserve);
  out += '[';
  const bool placeholders = !v.at_least(1, 43);
  for (size_t i = 0; i < list.size(); ++i) {
    const images::ImageSummary& s = list[i];
    if (i) out += ',';
    out += "{\"Containers\":";
    out += std::to_string(v.at_least(1, 51) ? s.containers : -1);
    out += ",\"Created\":";
    out += std::to_string(s.created);
    out += ",\"Id\":";
    append_string(out, s.id.str());
    out += ",\"Labels\":";
    if (s.labels.is_object() && !s.labels.empty())
      out += go_json(s.labels);
    else
      out += "null";
    out += ",\"ParentId\":\"\",\"RepoDigests\":";
    const bool unnamed = s.repo_tags.empty() && s.repo_digests.empty();
    if (placeholders && unnamed)
      out += "[\"\\u003cnone\\u003e@\\u003cnone\\u003e\"]";
    else
      append_list(out, s.repo_digests, placeholders);
    out += ",\"RepoTags\":";
    if (placeholders && unnamed)
      out += "[\"\\u003cnone\\u003e:\\u003cnone\\u003e\"]";
    else
      append_list(out, s.repo_tags, placeholders);
    out += ",\"SharedSize\":";
    out += std::to_string(s.shared_size);
    out += ",\"Size\":";
    out += std::to_string(s.size);
    if (!v.at_least(1, 44)) {
      out += ",\"VirtualSize\":";
      out += std::to_string(s.size);
    }
    out += '}';
  }
  out += ']';
  return out;
}

namespace {

// Every ImageInspect field after RepoDigests (Id and the name lists are written by the callers:
// with many tags they dominate and are encoded directly).
ordered_json inspect_tail(const images::ImageDetail& d, ApiVersion v) {
  const bool omit_empty = v.at_least(1, 52);
  ordered_json out;
  auto put_string = [&](const char* key, const std::string& value) {
    if (!(omit_empty && value.empty())) out[key] = value;
  };
  put_string("Parent", d.parent);
  put_string("Comment", d.comment);
  if (d.created_ns != images::kZeroTimeNs || !v.at_least(1, 44))
    out["Created"] = images::format_rfc3339_nano(d.created_ns);
  if (!v.at_least(1, 45)) {
    out["Container"] = d.container;
    out["ContainerConfig"] = container_config_json(d.container_config, v, /*zero_if_null=*/true);
  }
  put_string("DockerVersion", d.docker_version);
  put_string("Author", d.author);
  out["Config"] = container_config_json(d.config, v);
  out["Architecture"] = d.architecture;
  if (!d.variant.empty()) out["Variant"] = d.variant;
  out["Os"] = d.os;
  if (!d.os_version.empty()) out["OsVersion"] = d.os_version;
  out["Size"] = d.summary.size;
  if (!v.at_least(1, 44)) out["VirtualSize"] = d.summary.size;
  out["GraphDriver"] = ordered_json{{"Data", nullptr}, {"Name", "imaged"}};
  ordered_json layers = ordered_json::array();
  for (const auto& id : d.diff_ids) layers.push_back(id);
  out["RootFS"] = ordered_json{{"Type", "layers"}, {"Layers", std::move(layers)}};
  out["Metadata"] = ordered_json{
      {"LastTagTime", images::format_rfc3339_nano(d.last_tag_ns.value_or(images::kZeroTimeNs))}};
  return out;
}

}  // namespace

ordered_json image_inspect_json(const images::ImageDetail& d, ApiVersion v) {
  ordered_json out;
  out["Id"] = d.summary.id.str();
  out["RepoTags"] = string_list(d.summary.repo_tags, false);
  out["RepoDigests"] = string_list(d.summary.repo_digests, false);
  ordered_json tail = inspect_tail(d, v);
  for (auto it = tail.begin(); it != tail.end(); ++it) out[it.key()] = std::move(*it);
  return out;
}

std::string image_inspect_json_text(const images::ImageDetail& d, ApiVersion v) {
  std::string out = "{\"Id\":";
  append_string(out, d.summary.id.str());
  out += ",\"RepoTags\":";
  append_list(out, d.summary.repo_tags, false);
  out += ",\"RepoDigests\":";
  append_list(out, d.summary.repo_digests, false);
  const std::string tail = go_json(inspect_tail(d, v));  // "{...}", never empty
  out += ',';
  out.append(tail, 1);
  return out;
}

ordered_json history_json(const std::vector<images::HistoryEntry>& rows) {
  ordered_json out = ordered_json::array();
  for (const auto& r : rows) {
    ordered_json row;
    row["Comment"] = r.comment;
    row["Created"] = r.created;
    row["CreatedBy"] = r.created_by;
    row["Id"] = r.id;
    row["Size"] = r.size;
    row["Tags"] = r.tags ? string_list(*r.tags, false) : ordered_json(nullptr);
    out.push_back(std::move(row));
  }
  return out;
}

ordered_json delete_items_json(const std::vector<images::DeleteItem>& items) {
  ordered_json out = ordered_json::array();
  for (const auto& i : items)
    out.push_back(ordered_json{
        {i.kind == images::DeleteItem::Kind::Untagged ? "Untagged" : "Deleted", i.ref}});
  return out;
}

ordered_json prune_report_json(const images::PruneReport& report) {
  ordered_json out;
  out["ImagesDeleted"] =
      report.deleted.empty() ? ordered_json(nullptr) : delete_items_json(report.deleted);
  out["SpaceReclaimed"] = report.space_reclaimed;
  return out;
}

ordered_json disk_usage_json(const images::DiskUsage& du, ApiVersion v, DiskUsageParts parts) {
  ordered_json out;
  out["LayersSize"] = parts.images ? du.layers_size : 0;
  if (parts.images) {
    ordered_json images = ordered_json::array();
    for (const auto& s : du.images)
      images.push_back(image_summary_json(s, v, SummaryContext::DiskUsage));
    out["Images"] = std::move(images);
  } else {
    out["Images"] = nullptr;
  }
  out["Containers"] = parts.containers ? ordered_json::array() : ordered_json(nullptr);
  out["Volumes"] = parts.volumes ? ordered_json::array() : ordered_json(nullptr);
  out["BuildCache"] = nullptr;
  out["BuilderSize"] = 0;
  return out;
}

ordered_json event_json(const images::Event& e, ApiVersion v) {
  ordered_json out;
  if (!v.at_least(1, 52)) {
    // dockerd fills the deprecated fields for container and image events (omitempty).
    if (!e.action.empty()) out["status"] = e.action;
    if (!e.actor_id.empty()) out["id"] = e.actor_id;
    if (e.type == "container") {
      auto it = e.attributes.find("image");
      if (it != e.attributes.end() && !it->second.empty()) out["from"] = it->second;
    }
  }
  out["Type"] = e.type;
  out["Action"] = e.action;
  ordered_json attrs = ordered_json::object();
  for (const auto& [k, val] : e.attributes) attrs[k] = val;
  out["Actor"] = ordered_json{{"ID", e.actor_id}, {"Attributes", std::move(attrs)}};
  out["scope"] = "local";
  out["time"] = images::unix_seconds(e.time_ns);
  out["timeNano"] = e.time_ns;
  return out;
}

}  // namespace imaged::api
