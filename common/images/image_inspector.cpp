#include "common/images/image_inspector.h"

#include <algorithm>
#include <optional>

#include "common/content/content.h"
#include "common/images/image_index.h"
#include "common/images/image_lister.h"
#include "common/images/image_lookup.h"
#include "common/images/image_refs.h"
#include "common/images/timestamps.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"

namespace imaged::images {

namespace {

// What one read transaction gathers about an image.
struct Snapshot {
  metadata::ImageRecord record;
  std::vector<std::string> tags;     // familiar, sorted by full reference
  std::vector<std::string> digests;  // familiar, sorted by full reference
  std::vector<metadata::LayerRecord> layers;
  std::vector<metadata::ManifestRecord> manifests;
};

Result<Snapshot> snapshot(metadata::MetadataStore& metadata, std::string_view name,
                          ImageIndexCache* cache) {
  return metadata.read([&](metadata::ReadTx& tx) -> Result<Snapshot> {
    const LookupResult found = IMAGED_TRY(lookup_image(tx, name));
    Snapshot s;
    s.record = IMAGED_TRY(tx.get_image(found.image_id));
    // The names: from the cached index when it is current (10k tags: no reading at all), else
    // from the tags table's covering index.
    std::shared_ptr<const ImageIndex> index;
    if (cache) index = IMAGED_TRY(cache->peek(tx));
    if (const IndexedImage* e = index ? index->find(found.image_id) : nullptr) {
      s.tags = e->tags;
      s.digests = e->digests;
    } else {
      FamiliarNames names;
      for (const ImageRef& ref : IMAGED_TRY(refs_of(tx, found.image_id)))
        (ref.is_digest() ? s.digests : s.tags).push_back(names.ref(ref));
    }
    s.layers = IMAGED_TRY(tx.layers_of(found.image_id));
    s.manifests = IMAGED_TRY(tx.manifests_of(found.image_id));
    return s;
  });
}

struct Config {
  oci::ImageConfig parsed;
  nlohmann::json raw;
};

Result<Config> read_config(content::Provider& content, const std::string& image_id,
                           std::string_view name) {
  const Digest digest = IMAGED_TRY(Digest::parse(image_id));
  auto bytes = content::read_blob(content, digest, oci::kMaxConfigSize);
  if (!bytes) {
    // Removed between the read transaction and now: the image is gone.
    if (bytes.error().code == Errc::NotFound) return fail(no_such_image(name));
    return fail(bytes.error().context("reading the config of image " + short_image_id(image_id)));
  }
  auto parsed = oci::parse_image_config(*bytes);
  if (!parsed) {
    return fail(Errc::DataLoss, "config of image " + short_image_id(image_id) +
                                    " does not parse: " + parsed.error().message);
  }
  Config c{std::move(*parsed), nlohmann::json::parse(*bytes, nullptr, false)};
  return c;
}

int64_t created_ns_from(const std::string& created, int64_t fallback_ns) {
  if (created.empty()) return kZeroTimeNs;
  auto ns = parse_rfc3339_ns(created);
  return ns ? *ns : fallback_ns;
}

}  // namespace

Result<ImageDetail> inspect_image(metadata::MetadataStore& metadata, content::Provider& content,
                                  std::string_view name, ImageIndexCache* cache) {
  Snapshot snap = IMAGED_TRY(snapshot(metadata, name, cache));
  Config config = IMAGED_TRY(read_config(content, snap.record.id, name));
  const metadata::ImageRecord& r = snap.record;

  ImageDetail d{.summary = ImageSummary{.id = IMAGED_TRY(Digest::parse(r.id))}};
  d.summary.repo_tags = std::move(snap.tags);
  d.summary.repo_digests = std::move(snap.digests);
  d.summary.created = r.created_ns / 1'000'000'000;
  d.summary.size = r.size;
  d.summary.labels = labels_json_value(r.labels_json);

  const oci::ImageConfig& c = config.parsed;
  d.comment = c.comment;
  d.author = c.author;
  d.docker_version = c.docker_version;
  d.created_ns = created_ns_from(c.created, r.created_ns);
  d.os = c.os;
  d.architecture = c.architecture;
  d.variant = c.variant;
  d.os_version = c.os_version;
  d.config = c.config;
  if (config.raw.is_object()) {
    if (auto it = config.raw.find("container_config"); it != config.raw.end() && it->is_object())
      d.container_config = *it;
    if (auto it = config.raw.find("container"); it != config.raw.end() && it->is_string())
      d.container = it->get<std::string>();
    if (auto it = config.raw.find("parent"); it != config.raw.end() && it->is_string())
      d.parent = it->get<std::string>();
  }
  for (const Digest& id : c.diff_ids) d.diff_ids.push_back(id.str());
  if (r.last_tag_ns != 0) d.last_tag_ns = r.last_tag_ns;
  for (const auto& m : snap.manifests) {
    if (m.kind != metadata::ManifestKind::Manifest) continue;
    if (auto dg = Digest::parse(m.digest)) {
      d.manifest_digest = *dg;
      break;
    }
  }
  return d;
}

Result<std::vector<HistoryEntry>> image_history(metadata::MetadataStore& metadata,
                                                content::Provider& content, std::string_view name,
                                                ImageIndexCache* cache) {
  Snapshot snap = IMAGED_TRY(snapshot(metadata, name, cache));
  Config config = IMAGED_TRY(read_config(content, snap.record.id, name));

  // 1. One row per history entry, oldest first; non-empty entries take the next layer's size.
  std::vector<HistoryEntry> rows;
  size_t layer = 0;
  for (const oci::HistoryEntry& h : config.parsed.history) {
    HistoryEntry e;
    e.id = "<missing>";
    e.created = h.created.empty() ? kZeroTimeUnix : unix_seconds(created_ns_from(h.created, 0));
    e.created_by = h.created_by;
    e.comment = h.comment;
    if (!h.empty_layer) {
      if (layer >= config.parsed.diff_ids.size())
        return fail(Errc::InvalidArgument, "too many non-empty layers in History section");
      // The layer rows are in rootfs order; fall back to 0 if the store lacks the row.
      e.size = layer < snap.layers.size() ? snap.layers[layer].diff_size() : 0;
      ++layer;
    }
    rows.push_back(std::move(e));
  }
  std::reverse(rows.begin(), rows.end());

  // 2. The top row is the image itself, with its tags (not its digests), familiar.
  if (!rows.empty()) {
    rows.front().id = snap.record.id;
    if (!snap.tags.empty()) rows.front().tags = std::move(snap.tags);
  }
  return rows;
}

}  // namespace imaged::images
