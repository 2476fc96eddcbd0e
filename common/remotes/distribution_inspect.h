// What a registry says about a reference without pulling it: the root manifest's descriptor and
// the platforms it serves — GET /distribution/{name}/json, after moby's getDistributionInfo
// (daemon/server/router/distribution/distribution_routes.go).
//
//  - The root: resolve() the reference (no tag and no digest → "latest"; a digest wins over a
//    tag), then fetch_manifest() it. Descriptor = {media type of the document, digest, size}.
//  - Platforms: an index or manifest list gives one entry per manifest, in order, from each
//    entry's platform (an entry without one gives {"", ""}: os and architecture empty). A Docker
//    schema 2 manifest gives its config's os/architecture/os.version/os.features/variant, or
//    nothing when the config cannot be fetched or read or names neither os nor architecture.
//    An OCI image manifest gives nothing: moby only reads configs of Docker manifests (dockerd
//    answers "Platforms":null for it, verified with 20.10.24).
//  - Registry errors keep the registry's text ("manifest unknown: manifest unknown", NotFound;
//    "unauthorized: authentication required", Unauthenticated); a document that is neither a
//    manifest nor an index is Internal; "docker.io/library/scratch" is InvalidArgument
//    "'scratch' is a reserved name" (nothing is asked).
//
// Blocking (worker threads); thread-safe as the client is.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/oci.h"
#include "common/reference.h"
#include "common/remotes/call_context.h"
#include "common/remotes/registry_client.h"

namespace imaged::remotes {

struct DistributionInfo {
  oci::Descriptor descriptor;            // media_type, digest and size only
  std::vector<oci::Platform> platforms;  // empty when none is known (dockerd's null)
};

Result<DistributionInfo> inspect_distribution(RegistryClient& client, const Reference& ref,
                                              const CallContext& ctx = {});

// The platform an image config declares, read as Go's json.Unmarshal into an ocispec.Platform
// reads it (keys matched case-insensitively, other keys ignored, null leaves a field empty).
// nullopt when the bytes are not JSON, a field has the wrong type, or os and architecture are
// both empty.
std::optional<oci::Platform> platform_of_config(std::string_view config_json);

}  // namespace imaged::remotes
