// Registry error bodies ({"errors":[{"code","message","detail"}]}, OCI distribution spec) and
// their mapping onto imaged's Errc, worded as dockerd words them ("manifest unknown: manifest
// unknown"). Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/remotes/http.h"

namespace imaged::remotes {

struct RegistryError {
  std::string code;     // "MANIFEST_UNKNOWN"
  std::string message;  // "manifest unknown"
  std::string detail;   // the detail as compact JSON, "" when absent
};

// Parses an error body; empty when it is not one. Also understands the token servers' shapes
// ({"details": "..."} as Docker Hub's, {"error": "...", "error_description": "..."} as OAuth2).
std::vector<RegistryError> parse_registry_errors(std::string_view body);

// Go's errcode formatting: "<code lower-cased, _ as space>: <message>" ("manifest unknown:
// manifest unknown"); several errors joined with "; ". Empty for no errors.
std::string format_registry_errors(const std::vector<RegistryError>& errors);

// The Errc for a failing HTTP status: 400 InvalidArgument, 401 Unauthenticated, 403
// PermissionDenied, 404 NotFound, 405/501 Unimplemented, 408/5xx Unavailable, 409 Conflict,
// 413/429 ResourceExhausted, 416 InvalidArgument, else Internal.
Errc errc_for_status(int status);

// The Error for a failing response: the registry's own errors when the body has them
// ("denied: requested access to the resource is denied"), else distribution's default text for
// 401/403/429 ("unauthorized: authentication required"), else containerd's "unexpected status
// from HEAD request to <url>: 404 Not Found".
Error error_from_response(const HttpResponse& response, std::string_view method);

}  // namespace imaged::remotes
