#include "common/remotes/distribution_inspect.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/remotes/small_blob.h"

namespace imaged::remotes {

namespace {

using nlohmann::json;

bool equal_fold(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Go's json.Unmarshal of one string field: null leaves it, another type is an error.
bool read_string(const json& v, std::string& out) {
  if (v.is_null()) return true;
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return true;
}

bool read_strings(const json& v, std::vector<std::string>& out) {
  if (v.is_null()) return true;
  if (!v.is_array()) return false;
  out.clear();
  for (const json& e : v) {
    out.emplace_back();
    if (!read_string(e, out.back())) return false;
  }
  return true;
}

// The platforms of an index: one per entry, in order, as moby copies them.
std::vector<oci::Platform> index_platforms(const oci::Index& index) {
  std::vector<oci::Platform> out;
  for (const oci::Descriptor& d : index.manifests)
    out.push_back(d.platform.value_or(oci::Platform{}));
  return out;
}

}  // namespace

std::optional<oci::Platform> platform_of_config(std::string_view config_json) {
  const json j = json::parse(config_json.begin(), config_json.end(), nullptr, false);
  if (j.is_discarded() || !(j.is_object() || j.is_null())) return std::nullopt;
  oci::Platform p;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      bool ok = true;
      if (equal_fold(key, "architecture"))
        ok = read_string(value, p.architecture);
      else if (equal_fold(key, "os"))
        ok = read_string(value, p.os);
      else if (equal_fold(key, "os.version"))
        ok = read_string(value, p.os_version);
      else if (equal_fold(key, "os.features"))
        ok = read_strings(value, p.os_features);
      else if (equal_fold(key, "variant"))
        ok = read_string(value, p.variant);
      if (!ok) return std::nullopt;
    }
  }
  if (p.os.empty() && p.architecture.empty()) return std::nullopt;
  return p;
}

Result<DistributionInfo> inspect_distribution(RegistryClient& client, const Reference& ref,
                                              const CallContext& ctx) {
  if (ref.domain() == "docker.io" && ref.path() == "library/scratch")
    return fail(Errc::InvalidArgument, "'scratch' is a reserved name");
  CallContext call = ctx;
  call.registry_error_text = true;

  // resolve() looks a digest up by digest, else the tag or "latest".
  const Resolved resolved = IMAGED_TRY(client.resolve(ref, call));
  const std::string bytes = IMAGED_TRY(client.fetch_manifest(ref, resolved.descriptor, call));
  const std::string media_type =
      oci::detect_manifest_media_type(bytes, resolved.descriptor.media_type);
  auto unreadable = [&](const Error& e) {
    return Error{Errc::Internal, "reading the manifest " + resolved.descriptor.digest.str() +
                                     " of " + ref.familiar() + ": " + e.message};
  };

  DistributionInfo info{.descriptor = oci::Descriptor{.media_type = media_type,
                                                      .digest = resolved.descriptor.digest,
                                                      .size = static_cast<int64_t>(bytes.size())},
                        .platforms = {}};
  if (oci::is_index_media_type(media_type)) {
    auto index = oci::parse_index(bytes, media_type);
    if (!index) return fail(unreadable(index.error()));
    info.platforms = index_platforms(*index);
    return info;
  }
  auto manifest = oci::parse_manifest(bytes, media_type);
  if (!manifest) return fail(unreadable(manifest.error()));
  if (manifest->media_type != oci::kDockerManifest) return info;  // moby reads no OCI config
  // As moby: a config that cannot be had or read only means no platform.
  auto config =
      fetch_small_blob(client, ref, manifest->config, oci::kMaxConfigSize, "image config", call);
  if (!config) return info;
  if (auto platform = platform_of_config(*config)) info.platforms.push_back(std::move(*platform));
  return info;
}

}  // namespace imaged::remotes
