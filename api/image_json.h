// Engine-API JSON for the image endpoints, shaped per request version (engine-api.md §3, §3.10).
// Field order follows dockerd's Go structs so that raw output (`docker image inspect` prints it
// re-indented) reads like dockerd's. Pure functions, thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "api/api_version.h"
#include "common/images/types.h"

namespace imaged::api {

// Where a summary goes: GET /images/json shows Containers -1 below 1.51; GET /system/df always
// the real count.
enum class SummaryContext { List, DiskUsage };

// ImageSummary: Containers, Created, Id, Labels, ParentId, RepoDigests, RepoTags, SharedSize,
// Size, VirtualSize (<1.44). Below 1.43 an image with neither tags nor digests shows the
// "<none>:<none>" / "<none>@<none>" placeholders and an empty list is null (dockerd 20.10); from
// 1.43 on, empty lists are [].
nlohmann::ordered_json image_summary_json(const images::ImageSummary& s, ApiVersion v,
                                          SummaryContext context = SummaryContext::List);
// The list as already-encoded JSON text (Go escaping), built without an intermediate document:
// the 10k-tag listing path.
std::string image_list_json_text(const std::vector<images::ImageSummary>& list, ApiVersion v);

// ImageInspect with every version gate of §3.2 (VirtualSize <1.44, Container/ContainerConfig
// <1.45, slimmer Config from 1.50, omit-empty from 1.52). GraphDriver is {"Data":null,
// "Name":"imaged"}: imaged keeps no unpacked layers, so there are no directories to show.
nlohmann::ordered_json image_inspect_json(const images::ImageDetail& d, ApiVersion v);
// The same as encoded text (Go escaping), with the name lists written directly: the fast path of
// GET /images/{name}/json for images with thousands of tags.
std::string image_inspect_json_text(const images::ImageDetail& d, ApiVersion v);

// A container config object (the image config's "config") in Go's container.Config shape and
// field order, for API version v. `raw` null → null (or the zero-valued shape when
// `zero_if_null`, as dockerd shows an absent ContainerConfig).
nlohmann::ordered_json container_config_json(const nlohmann::json& raw, ApiVersion v,
                                             bool zero_if_null = false);

// [{Comment, Created, CreatedBy, Id, Size, Tags}], newest first.
nlohmann::ordered_json history_json(const std::vector<images::HistoryEntry>& rows);

// [{"Untagged": ref} | {"Deleted": id}].
nlohmann::ordered_json delete_items_json(const std::vector<images::DeleteItem>& items);

// {"ImagesDeleted": [...] | null, "SpaceReclaimed": n}.
nlohmann::ordered_json prune_report_json(const images::PruneReport& report);

// GET /system/df. `want_*` reflect the `type` query (all true below 1.42 or without it).
struct DiskUsageParts {
  bool containers = true;
  bool images = true;
  bool volumes = true;
  bool build_cache = true;
};
nlohmann::ordered_json disk_usage_json(const images::DiskUsage& du, ApiVersion v,
                                       DiskUsageParts parts = {});

// One /events message: legacy status/id/from below 1.52, then Type, Action,
// Actor{ID, Attributes}, scope "local", time, timeNano.
nlohmann::ordered_json event_json(const images::Event& e, ApiVersion v);

}  // namespace imaged::api
