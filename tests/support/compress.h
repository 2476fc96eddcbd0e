// In-memory gzip and zstd compression of test data (zlib, libzstd). Tests only: failures are
// Catch REQUIRE failures.
#pragma once

#include <string>

namespace imaged::testing {

std::string gzip(const std::string& data);
std::string zstd(const std::string& data);

}  // namespace imaged::testing
