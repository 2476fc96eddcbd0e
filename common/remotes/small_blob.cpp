#include "common/remotes/small_blob.h"

#include <span>

namespace imaged::remotes {

Result<std::string> fetch_small_blob(RegistryClient& client, const Reference& repo,
                                     const oci::Descriptor& desc, int64_t max_size,
                                     std::string_view kind, const CallContext& ctx) {
  if (desc.size < 0 || desc.size > max_size)
    return fail(Errc::InvalidArgument, std::string(kind) + " " + desc.digest.str() +
                                           " is too large (" + std::to_string(desc.size) +
                                           " bytes)");
  std::string bytes;
  bytes.reserve(static_cast<size_t>(desc.size));
  IMAGED_TRY(client.fetch_blob(
      repo, desc, 0,
      [&](std::span<const std::byte> b) -> Status {
        bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
        return {};
      },
      [&]() -> Status {
        bytes.clear();
        return {};
      },
      ctx));
  if (static_cast<int64_t>(bytes.size()) != desc.size || Digest::of(bytes) != desc.digest)
    return fail(Errc::FailedPrecondition,
                std::string(kind) + " verification failed for digest " + desc.digest.str());
  return bytes;
}

}  // namespace imaged::remotes
