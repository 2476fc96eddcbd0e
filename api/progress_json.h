// dockerd's JSON progress messages (moby pkg/streamformatter + pkg/jsonmessage) for the
// images::Progress values of pull, push and load streams.
//
//   plain message:   {"status":"Pulling from library/busybox","id":"musl"}
//   progress update: {"status":"Downloading","progressDetail":{"current":36445,"total":1069030},
//                     "progress":"[=>      …      ]  36.45kB/1.069MB","id":"cd0f9dc1d041"}
//                    {"status":"Pull complete","progressDetail":{},"id":"cd0f9dc1d041"}
// Empty fields are omitted as Go's `omitempty` does (current/total 0 included).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/images/types.h"

namespace imaged::api {

nlohmann::ordered_json progress_message(const images::Progress& progress);

// go-units HumanSize: decimal units, 4 significant digits ("0B", "512B", "36.45kB", "1.069MB",
// "1GB").
std::string human_size(double bytes);

// JSONProgress.String() as dockerd renders it (no terminal, so a 200-column width: the bar is
// always there): "[" + 50 cells of '=' up to the percentage, '>' + "] " + "%8v/%v" of the sizes
// (only the current size when it exceeds the total, or when there is no total). "" when there
// are no numbers.
std::string progress_bar(int64_t current, int64_t total);

}  // namespace imaged::api
