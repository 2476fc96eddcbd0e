// Engine API versions: parsing the `/vX.Y/` prefix, comparing, and the supported window.
//
// The daemon speaks kMaxApiVersion (advertised in the Api-Version header and in /version) and
// accepts any request version in [kMinApiVersion, kMaxApiVersion]. Unversioned requests are served
// as kMaxApiVersion. Comparison follows Go's moby/api versions.Compare: dot-separated numeric
// components, missing components count as 0, non-numeric ones as 0.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "common/error.h"

namespace imaged::api {

struct ApiVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;  // only when the client sends three components ("1.41.1"); rare

  // Parses "1.41" (the text after "/v"). Never fails: junk components become 0, like Go.
  static ApiVersion parse(std::string_view text);
  std::string to_string() const;  // "1.41" (or "1.41.1" when patch != 0)

  // True when this version is >= major.minor (handlers gate behaviour: v.at_least(1, 42)).
  bool at_least(int maj, int min) const { return *this >= ApiVersion{maj, min, 0}; }

  friend auto operator<=>(const ApiVersion&, const ApiVersion&) = default;
};

inline constexpr ApiVersion kMaxApiVersion{1, 50, 0};
inline constexpr ApiVersion kMinApiVersion{1, 24, 0};
inline constexpr std::string_view kMaxApiVersionText = "1.50";
inline constexpr std::string_view kMinApiVersionText = "1.24";

// Checks a request's version text against the window. Errors (Errc::InvalidArgument) carry
// dockerd's exact messages:
//   "client version 1.99 is too new. Maximum supported API version is 1.50"
//   "client version 1.11 is too old. Minimum supported API version is 1.24, please upgrade your
//    client to a newer version"
// `text` is echoed as the client sent it.
Result<ApiVersion> check_api_version(std::string_view text);

}  // namespace imaged::api
