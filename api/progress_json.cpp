#include "api/progress_json.h"

#include <cstdio>

namespace imaged::api {

std::string human_size(double bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t i = 0;
  while (bytes >= 1000.0 && i + 1 < std::size(kUnits)) {
    bytes /= 1000.0;
    ++i;
  }
  // C's %.4g rounds and trims exactly as Go's %.4g does for these magnitudes.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g%s", bytes, kUnits[i]);
  return buf;
}

namespace {

// fmt.Sprintf("%8v", s): right-aligned in 8 columns.
std::string pad8(std::string s) {
  if (s.size() < 8) s.insert(0, 8 - s.size(), ' ');
  return s;
}

}  // namespace

std::string progress_bar(int64_t current, int64_t total) {
  if (current <= 0 && total <= 0) return "";
  if (total <= 0) return pad8(human_size(static_cast<double>(current)));
  int percentage =
      static_cast<int>(static_cast<double>(current) / static_cast<double>(total) * 100) / 2;
  if (percentage > 50) percentage = 50;
  const int spaces = 50 - percentage > 0 ? 50 - percentage : 0;
  std::string out = "[" + std::string(static_cast<size_t>(std::max(percentage, 0)), '=') + ">" +
                    std::string(static_cast<size_t>(spaces), ' ') + "] ";
  out += pad8(human_size(static_cast<double>(current)));
  if (current <= total) out += "/" + human_size(static_cast<double>(total));
  return out;
}

nlohmann::ordered_json progress_message(const images::Progress& p) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  if (!p.status.empty()) out["status"] = p.status;
  if (!p.message) {
    const int64_t current = p.current.value_or(0);
    const int64_t total = p.total.value_or(0);
    nlohmann::ordered_json detail = nlohmann::ordered_json::object();
    if (current != 0) detail["current"] = current;
    if (total != 0) detail["total"] = total;
    out["progressDetail"] = std::move(detail);
    if (auto bar = progress_bar(current, total); !bar.empty()) out["progress"] = bar;
  }
  if (!p.id.empty()) out["id"] = p.id;
  return out;
}

}  // namespace imaged::api
