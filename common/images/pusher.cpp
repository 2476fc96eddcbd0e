#include "common/images/pusher.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "common/content/content.h"
#include "common/images/event_log.h"
#include "common/images/manifest_synth.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"
#include "common/remotes/registry_client.h"

namespace imaged::images {

namespace {

using nlohmann::json;

Progress message(std::string status, std::string id = {}) {
  return Progress{.id = std::move(id), .status = std::move(status), .message = true};
}

Progress layer_status(const std::string& id, std::string status) {
  return Progress{.id = id, .status = std::move(status)};
}

// Registry refusals name the registry, so that the user knows where to log in.
Error push_error(const Error& err, const Reference& repo) {
  if (err.code != Errc::Unauthenticated && err.code != Errc::PermissionDenied) return err;
  return Error{err.code, err.message + " (pushing to " + repo.domain() + "; try 'docker login " +
                             repo.domain() + "')"};
}

// dockerd's LogImageEvent for a push: id = the familiar reference, labels, name = the familiar
// repository.
Event push_event(const Reference& ref, const std::string& labels_json) {
  Event e{.action = "push", .actor_id = ref.familiar()};
  json labels = json::parse(labels_json, nullptr, false);
  if (labels.is_object())
    for (auto& [k, v] : labels.items())
      if (v.is_string()) e.attributes[k] = v.get<std::string>();
  e.attributes["name"] = ref.familiar_name();
  return e;
}

}  // namespace

Pusher::Pusher(content::Provider& content, content::Ingester& ingester,
               metadata::MetadataStore& metadata, remotes::RegistryClient& registry,
               EventLog& events, PusherOptions options)
    : content_(content),
      ingester_(ingester),
      metadata_(metadata),
      registry_(registry),
      events_(events),
      options_(options) {}

Status Pusher::push(const PushRequest& request, const ProgressSink& progress) {
  const Reference repo = request.repo.without_tag_or_digest();
  progress(message("The push refers to repository [" + repo.name() + "]"));

  std::vector<std::pair<std::string, std::string>> targets;  // tag, image id
  const bool all_tags = !request.tag || request.tag->empty();
  if (!all_tags) {
    auto checked = repo.with_checked_tag(*request.tag);
    if (!checked) return fail(checked.error());
    auto id = IMAGED_TRY(metadata_.read(
        [&](metadata::ReadTx& tx) { return tx.resolve_tag(repo.name(), *request.tag); }));
    if (!id)
      return fail(Errc::NotFound,
                  "An image does not exist locally with the tag: " + repo.familiar_name());
    targets.emplace_back(*request.tag, *id);
  } else {
    auto tags = IMAGED_TRY(metadata_.read([](metadata::ReadTx& tx) { return tx.list_tags(); }));
    for (const auto& t : tags)
      if (t.repository == repo.name()) targets.emplace_back(t.tag, t.image_id);
    if (targets.empty())
      return fail(Errc::NotFound,
                  "An image does not exist locally with the tag: " + repo.familiar_name());
  }
  for (const auto& [tag, id] : targets) {
    if (request.stop.stop_requested()) return fail(Errc::Canceled, "push canceled");
    IMAGED_TRY(push_one(request, repo.with_tag(tag), id, progress));
  }
  return {};
}

Status Pusher::push_one(const PushRequest& request, const Reference& tagged,
                        const std::string& image_id, const ProgressSink& progress) {
  const Reference repo = tagged.without_tag_or_digest();
  remotes::CallContext ctx;
  if (!request.auth.empty()) ctx.auth = request.auth;
  ctx.stop = request.stop;

  struct Stored {
    metadata::ImageRecord image;
    std::vector<metadata::LayerRecord> layers;
    std::vector<metadata::ManifestRecord> manifests;
    std::map<std::string, std::string> mount_from;  // layer digest → repository path
  };
  Stored st = IMAGED_TRY(metadata_.read([&](metadata::ReadTx& tx) -> Result<Stored> {
    Stored s;
    s.image = IMAGED_TRY(tx.get_image(image_id));
    s.layers = IMAGED_TRY(tx.layers_of(image_id));
    s.manifests = IMAGED_TRY(tx.manifests_of(image_id));
    // Mount candidates: other repositories of the same registry that some image holding the
    // layer was pulled from or pushed to.
    auto repo_digests = IMAGED_TRY(tx.list_repo_digests());
    std::map<std::string, std::vector<metadata::LayerRecord>> layers_by_image;
    std::set<std::string> wanted;
    for (const auto& l : s.layers) wanted.insert(l.digest);
    for (const auto& rd : repo_digests) {
      auto other = Reference::parse_repository(rd.repository);
      if (!other || other->domain() != repo.domain() || other->path() == repo.path()) continue;
      auto it = layers_by_image.find(rd.image_id);
      if (it == layers_by_image.end())
        it = layers_by_image.emplace(rd.image_id, IMAGED_TRY(tx.layers_of(rd.image_id))).first;
      for (const auto& l : it->second)
        if (wanted.contains(l.digest)) s.mount_from.emplace(l.digest, other->path());
    }
    return s;
  }));

  // The manifest: the stored one, byte for byte.
  std::string manifest_bytes;
  std::string media_type;
  Digest manifest_digest = Digest::of("");
  auto found = std::find_if(st.manifests.begin(), st.manifests.end(), [](const auto& m) {
    return m.kind == metadata::ManifestKind::Manifest;
  });
  if (found != st.manifests.end()) {
    manifest_digest = IMAGED_TRY(Digest::parse(found->digest));
    manifest_bytes =
        IMAGED_TRY(content::read_blob(content_, manifest_digest, oci::kMaxManifestSize));
    media_type = found->media_type;
  } else {
    manifest_bytes = synthesize_docker_manifest(st.image, st.layers);
    media_type = std::string(oci::kDockerManifest);
    manifest_digest = Digest::of(manifest_bytes);
    IMAGED_TRY(content::write_blob(ingester_, "manifest-" + manifest_digest.str(), manifest_bytes,
                                   manifest_digest));
    metadata::ManifestRecord rec{.digest = manifest_digest.str(),
                                 .media_type = media_type,
                                 .size = static_cast<int64_t>(manifest_bytes.size()),
                                 .kind = metadata::ManifestKind::Manifest,
                                 .platform = st.image.os + "/" + st.image.architecture};
    IMAGED_TRY(metadata_.write([&](metadata::WriteTx& tx) -> Result<int64_t> {
      return tx.add_manifests(image_id, std::span(&rec, 1));
    }));
  }
  const oci::Manifest manifest = IMAGED_TRY(oci::parse_manifest(manifest_bytes, media_type));

  // Progress ids: the short diff_id of each layer (by position), as dockerd.
  std::vector<std::string> ids;
  for (size_t i = 0; i < manifest.layers.size(); ++i) {
    const auto& d = manifest.layers[i].digest;
    std::string diff =
        (i < st.layers.size() && st.layers[i].digest == d.str()) ? st.layers[i].diff_id : d.str();
    ids.push_back(diff.substr(7, 12));
  }
  // One line per distinct layer (a layer listed twice is pushed once).
  std::vector<size_t> order;
  std::set<std::string> seen;
  for (size_t i = 0; i < manifest.layers.size(); ++i)
    if (seen.insert(manifest.layers[i].digest.str()).second) order.push_back(i);
  for (size_t i : order) progress(layer_status(ids[i], "Preparing"));
  for (size_t k = 0; k < order.size(); ++k)
    if (static_cast<int>(k) >= options_.max_concurrent_uploads)
      progress(layer_status(ids[order[k]], "Waiting"));

  auto upload = [&](const oci::Descriptor& desc, const std::string* id) -> Status {
    auto reader = IMAGED_TRY(content_.open(desc.digest));
    remotes::BlobReader read = [&reader](int64_t offset,
                                         std::span<std::byte> buf) -> Result<size_t> {
      return reader->read_at(buf, offset);
    };
    int64_t last = -1;
    const int64_t step = std::max<int64_t>(desc.size / 100, 512 * 1024);
    remotes::ProgressFn on_bytes;
    if (id)
      on_bytes = [&](int64_t bytes) {
        if (last >= 0 && bytes < desc.size && bytes - last < step && bytes >= last) return;
        last = bytes;
        progress(Progress{.id = *id, .status = "Pushing", .current = bytes, .total = desc.size});
      };
    return registry_.upload_blob(repo, desc, read, on_bytes, ctx);
  };

  for (size_t i : order) {
    if (request.stop.stop_requested()) return fail(Errc::Canceled, "push canceled");
    const auto& desc = manifest.layers[i];
    const std::string& id = ids[i];
    auto exists = registry_.blob_exists(repo, desc.digest, ctx);
    if (!exists) return fail(push_error(exists.error(), repo));
    if (*exists) {
      progress(layer_status(id, "Layer already exists"));
      continue;
    }
    if (auto from = st.mount_from.find(desc.digest.str()); from != st.mount_from.end()) {
      auto mounted = registry_.mount_blob(repo, desc.digest, from->second, ctx);
      if (!mounted) return fail(push_error(mounted.error(), repo));
      if (*mounted) {
        progress(layer_status(id, "Mounted from " + from->second));
        continue;
      }
    }
    if (auto s = upload(desc, &id); !s) return fail(push_error(s.error(), repo));
    progress(layer_status(id, "Pushed"));
  }

  // The config, without progress lines (as dockerd).
  auto config_exists = registry_.blob_exists(repo, manifest.config.digest, ctx);
  if (!config_exists) return fail(push_error(config_exists.error(), repo));
  if (!*config_exists)
    if (auto s = upload(manifest.config, nullptr); !s) return fail(push_error(s.error(), repo));

  const std::string tag = tagged.tag().value_or("latest");
  auto pushed = registry_.put_manifest(repo, tag, media_type, manifest_bytes, ctx);
  if (!pushed) return fail(push_error(pushed.error(), repo));
  if (*pushed != manifest_digest)
    return fail(Errc::FailedPrecondition, "registry stored manifest " + pushed->str() +
                                              " for a pushed " + manifest_digest.str());

  IMAGED_TRY(metadata_.write([&](metadata::WriteTx& tx) -> Result<bool> {
    auto changed = IMAGED_TRY(tx.add_repo_digest(repo.name(), manifest_digest.str(), image_id));
    IMAGED_TRY(events_.append(tx, push_event(tagged, st.image.labels_json)));
    return changed;
  }));
  events_.notify();

  const auto size = static_cast<int64_t>(manifest_bytes.size());
  progress(message(tag + ": digest: " + manifest_digest.str() + " size: " + std::to_string(size)));
  if (request.on_pushed) request.on_pushed(tag, manifest_digest, size);
  return {};
}

}  // namespace imaged::images
