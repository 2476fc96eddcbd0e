#include "api/distribution_route.h"

#include <nlohmann/json.hpp>

#include "api/http_status.h"
#include "api/request.h"
#include "api/response_writer.h"
#include "api/router.h"
#include "common/digest.h"

namespace imaged::api {

namespace {

constexpr std::string_view kPattern = "/distribution/{name:.*}/json";

// moby's status for the errors this route meets: the registry's for 401/403/404/429 (errcode's
// HTTP status), 400 for invalid input, 500 for everything else.
int distribution_error_status(Errc code) {
  switch (code) {
    case Errc::InvalidArgument:
    case Errc::NotFound:
    case Errc::Unauthenticated:
    case Errc::PermissionDenied:
      return http_status(code);
    case Errc::ResourceExhausted:
      return 429;
    default:
      return 500;
  }
}

void answer(ResponseWriter& writer, int status, std::string_view message) {
  writer.json_text(status, error_body(message));
}

nlohmann::ordered_json platform_json(const oci::Platform& p) {
  nlohmann::ordered_json j;
  j["architecture"] = p.architecture;
  j["os"] = p.os;
  if (!p.os_version.empty()) j["os.version"] = p.os_version;
  if (!p.os_features.empty()) j["os.features"] = p.os_features;
  if (!p.variant.empty()) j["variant"] = p.variant;
  return j;
}

// registry.DistributionInspect as Go encodes it (a nil Platforms slice is null).
nlohmann::ordered_json distribution_json(const remotes::DistributionInfo& info) {
  nlohmann::ordered_json out;
  out["Descriptor"]["mediaType"] = info.descriptor.media_type;
  out["Descriptor"]["digest"] = info.descriptor.digest.str();
  out["Descriptor"]["size"] = info.descriptor.size;
  out["Platforms"] = nullptr;
  for (const oci::Platform& p : info.platforms) out["Platforms"].push_back(platform_json(p));
  return out;
}

}  // namespace

void handle_distribution_inspect(const DistributionInspectFn& inspect, Request& request,
                                 ResponseWriter& writer) {
  if (!request.version.at_least(1, 30))
    return answer(writer, 400,
                  "GET " + std::string(kPattern) + " requires minimum API version 1.30");
  const std::string name(request.param("name"));
  // distribution's ParseAnyReference: an image ID is a reference without a repository.
  if (is_sha256_hex(name) || Digest::parse(name))
    return answer(writer, 500, "no manifest found for full image ID");
  auto ref = Reference::parse(name);
  if (!ref) return answer(writer, 400, ref.error().message);
  remotes::AuthConfig auth;
  if (auto h = request.header("X-Registry-Auth")) auth = remotes::decode_registry_auth(*h);

  auto info = inspect(*ref, auth);
  if (!info)
    return answer(writer, distribution_error_status(info.error().code), info.error().message);
  writer.json(200, distribution_json(*info));
}

DistributionInspectFn distribution_inspect_with(remotes::RegistryClient& client) {
  return [&client](const Reference& ref, const remotes::AuthConfig& auth) {
    remotes::CallContext ctx;
    if (!auth.empty()) ctx.auth = auth;
    return remotes::inspect_distribution(client, ref, ctx);
  };
}

void register_distribution_routes(Router& router, DistributionInspectFn inspect) {
  router.add(Method::Get, kPattern,
             [inspect = std::move(inspect)](Request& request, ResponseWriter& writer) {
               handle_distribution_inspect(inspect, request, writer);
             });
}

}  // namespace imaged::api
