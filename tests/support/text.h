// Small text helpers shared by the tests.
#pragma once

#include <string>
#include <string_view>

namespace imaged::testing {

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace imaged::testing
