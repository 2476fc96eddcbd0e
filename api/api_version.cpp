#include "api/api_version.h"

#include <charconv>

namespace imaged::api {

namespace {

// Go's strconv.Atoi on a component; failures count as 0 as in versions.compare.
int component(std::string_view text) {
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return 0;
  return value;
}

}  // namespace

ApiVersion ApiVersion::parse(std::string_view text) {
  int parts[3] = {0, 0, 0};
  for (int i = 0; i < 3 && !text.empty(); ++i) {
    auto dot = text.find('.');
    parts[i] = component(text.substr(0, dot));
    text = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  }
  return ApiVersion{parts[0], parts[1], parts[2]};
}

std::string ApiVersion::to_string() const {
  std::string out = std::to_string(major) + "." + std::to_string(minor);
  if (patch != 0) out += "." + std::to_string(patch);
  return out;
}

Result<ApiVersion> check_api_version(std::string_view text) {
  ApiVersion version = ApiVersion::parse(text);
  if (version > kMaxApiVersion) {
    return fail(Errc::InvalidArgument, "client version " + std::string(text) +
                                           " is too new. Maximum supported API version is " +
                                           std::string(kMaxApiVersionText));
  }
  if (version < kMinApiVersion) {
    return fail(Errc::InvalidArgument, "client version " + std::string(text) +
                                           " is too old. Minimum supported API version is " +
                                           std::string(kMinApiVersionText) +
                                           ", please upgrade your client to a newer version");
  }
  return version;
}

}  // namespace imaged::api
