// must(): the value of a Result, or a std::runtime_error naming `what` — for test support code
// that runs outside a Catch test case too (fixtures, the pull child process).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include "common/error.h"

namespace imaged::testing {

template <class T>
T must(Result<T> r, const char* what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}

inline void must(Status s, const char* what) {
  if (!s) throw std::runtime_error(std::string(what) + ": " + s.error().message);
}

}  // namespace imaged::testing
