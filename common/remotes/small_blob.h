// Fetching a small blob (an image config) from a registry into memory, verified.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/oci.h"
#include "common/reference.h"
#include "common/remotes/call_context.h"
#include "common/remotes/registry_client.h"

namespace imaged::remotes {

// The bytes of blob desc.digest of `repo` (RegistryClient::fetch_blob, restarts handled), checked
// against desc.size and desc.digest. `kind` names the blob in messages ("image config"):
//   InvalidArgument    "<kind> <digest> is too large (<size> bytes)" when desc.size is negative
//                      or over `max_size` (nothing is fetched)
//   FailedPrecondition "<kind> verification failed for digest <digest>" for other bytes
// and the client's errors. Thread-safe as the client is.
Result<std::string> fetch_small_blob(RegistryClient& client, const Reference& repo,
                                     const oci::Descriptor& desc, int64_t max_size,
                                     std::string_view kind, const CallContext& ctx = {});

}  // namespace imaged::remotes
