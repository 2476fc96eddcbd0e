// Engine-API JSON of containers: GET /containers/{id}/json (moby's ContainerJSON, fields in its
// order) and GET /containers/json (moby's container Summary), plus the "Up 3 seconds" /
// "Exited (0) 2 minutes ago" status texts (moby State.String with go-units HumanDuration).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/containers/container.h"

namespace imaged::api {

nlohmann::ordered_json container_inspect_json(const containers::Container& container);
nlohmann::ordered_json container_summary_json(const containers::Container& container,
                                              int64_t now_ns);

// go-units HumanDuration of `ns`: "Less than a second", "1 second", "2 minutes", "About an hour".
std::string human_duration(int64_t ns);
// moby's State.String(): "Up 2 seconds", "Exited (0) 3 minutes ago", "Created".
std::string container_status_text(const containers::Snapshot& state, int64_t now_ns);

}  // namespace imaged::api
