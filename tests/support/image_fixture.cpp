#include "tests/support/image_fixture.h"

#include <stdexcept>

#include "common/content/content.h"
#include "common/digest.h"
#include "common/images/timestamps.h"
#include "common/oci.h"
#include "common/reference.h"
#include "tests/support/must.h"

namespace imaged::testing {

namespace {

int64_t to_ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

StoreFixture::StoreFixture(std::function<std::chrono::system_clock::time_point()> clock)
    : dir_("imaged-images"), root_(dir_.path() / "root"), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
  content_ = must(content::LocalStore::open(root_, {.sync = false}), "open content store");
  metadata_ = must(metadata::MetadataStore::open(root_ / "meta.db"), "open meta.db");
  registry_ =
      std::make_unique<remotes::RegistryClient>(remotes::RegistryClientOptions{}, credentials_);
  events_ =
      std::make_unique<images::EventLog>(*metadata_, images::EventLogOptions{.clock = clock_});
  service_ = std::make_unique<images::ImageService>(*content_, *metadata_, *registry_, *events_,
                                                    images::ImageServiceOptions{});
}

StoreFixture::~StoreFixture() {
  service_.reset();
  events_.reset();
}

ImportedImage StoreFixture::import(const ImageSpec& spec) {
  return import_image(*content_, *metadata_, spec, to_ns(clock_()));
}

ExternalStore::ExternalStore(const std::filesystem::path& data_root) {
  content_ = must(content::LocalStore::open(data_root, {.sync = false}), "open content store");
  metadata_ = must(metadata::MetadataStore::open(data_root / "meta.db"), "open meta.db");
}

ExternalStore::~ExternalStore() = default;

ImportedImage ExternalStore::import(const ImageSpec& spec) {
  return import_image(*content_, *metadata_, spec, to_ns(std::chrono::system_clock::now()));
}

bool ExternalStore::has_blob(const std::string& digest) const {
  auto d = Digest::parse(digest);
  return d && std::filesystem::exists(content_->path_of(*d));
}

std::vector<std::string> ImportedImage::chain_ids() const {
  std::vector<Digest> diffs;
  for (const auto& d : diff_ids) diffs.push_back(Digest::parse(d).value());
  std::vector<std::string> out;
  for (const auto& c : oci::chain_ids(diffs)) out.push_back(c.str());
  return out;
}

ImportedImage import_image(content::LocalStore& content_store, metadata::MetadataStore& meta,
                           const ImageSpec& spec, int64_t now_ns) {
  ImportedImage out;
  std::vector<metadata::LayerRecord> layers;
  nlohmann::json layer_descs = nlohmann::json::array();
  // 1. Layer blobs.
  for (const LayerSpec& l : spec.layers) {
    const Digest digest = Digest::of(l.bytes);
    const Digest diff_id = Digest::of("diff:" + l.bytes);
    const int64_t usize =
        l.uncompressed_size >= 0 ? l.uncompressed_size : 3 * static_cast<int64_t>(l.bytes.size());
    must(content::write_blob(content_store, "fixture-" + digest.str(), l.bytes, digest),
         "write layer");
    layers.push_back(metadata::LayerRecord{digest.str(), diff_id.str(),
                                           static_cast<int64_t>(l.bytes.size()), usize,
                                           std::string(oci::kDockerLayerGzip), l.unpacked_size});
    layer_descs.push_back(
        {{"mediaType", oci::kDockerLayerGzip}, {"size", l.bytes.size()}, {"digest", digest.str()}});
    out.layer_digests.push_back(digest.str());
    out.diff_ids.push_back(diff_id.str());
    out.uncompressed_sizes.push_back(usize);
    out.size += layers.back().diff_size();
  }
  // 2. Config.
  nlohmann::json config = spec.extra_config;
  config["architecture"] = spec.architecture;
  config["os"] = "linux";
  if (!spec.created.empty()) config["created"] = spec.created;
  if (!spec.comment.empty()) config["comment"] = spec.comment;
  if (!spec.author.empty()) config["author"] = spec.author;
  nlohmann::json cc = {
      {"Env", {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
      {"Cmd", {"sh"}}};
  if (!spec.labels.empty()) cc["Labels"] = spec.labels;
  config["config"] = cc;
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", out.diff_ids}};
  if (spec.history) {
    config["history"] = *spec.history;
  } else {
    nlohmann::json h = nlohmann::json::array();
    for (size_t i = 0; i < spec.layers.size(); ++i)
      h.push_back({{"created", spec.created.empty() ? "2024-01-01T00:00:00Z" : spec.created},
                   {"created_by", "/bin/sh -c #(nop) ADD file:" + std::to_string(i) + " in / "}});
    h.push_back({{"created", spec.created.empty() ? "2024-01-01T00:00:00Z" : spec.created},
                 {"created_by", "/bin/sh -c #(nop)  CMD [\"sh\"]"},
                 {"empty_layer", true}});
    config["history"] = h;
  }
  if (!spec.salt.empty()) config["salt"] = spec.salt;
  out.config_json = config.dump();
  const Digest config_digest = Digest::of(out.config_json);
  out.id = config_digest.str();
  must(content::write_blob(content_store, "fixture-" + out.id, out.config_json, config_digest),
       "write config");
  // 3. Manifest.
  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", oci::kDockerManifest},
      {"config",
       {{"mediaType", oci::kDockerConfig}, {"size", out.config_json.size()}, {"digest", out.id}}},
      {"layers", layer_descs}};
  out.manifest_json = manifest.dump(3);
  const Digest manifest_digest = Digest::of(out.manifest_json);
  out.manifest_digest = manifest_digest.str();
  must(content::write_blob(content_store, "fixture-" + out.manifest_digest, out.manifest_json,
                           manifest_digest),
       "write manifest");
  // 4. One metadata transaction.
  metadata::ImageRecord record;
  record.id = out.id;
  record.created_ns = 0;
  if (!spec.created.empty())
    record.created_ns = must(images::parse_rfc3339_ns(spec.created), "created");
  record.os = "linux";
  record.architecture = spec.architecture;
  record.author = spec.author;
  record.comment = spec.comment;
  record.labels_json = spec.labels.empty() ? "{}" : nlohmann::json(spec.labels).dump();
  record.config_media_type = std::string(oci::kDockerConfig);
  record.config_size = static_cast<int64_t>(out.config_json.size());
  record.added_ns = now_ns;
  const std::vector<metadata::ManifestRecord> manifests = {
      {out.manifest_digest, std::string(oci::kDockerManifest),
       static_cast<int64_t>(out.manifest_json.size()), metadata::ManifestKind::Manifest,
       "linux/" + spec.architecture}};
  std::vector<std::string> digest_repos = spec.digest_repositories;
  std::vector<Reference> tags;
  for (const std::string& t : spec.tags) {
    tags.push_back(must(Reference::parse(t), "tag").with_default_tag());
    if (spec.digests_for_tags) digest_repos.push_back(tags.back().name());
  }
  must(meta.write([&](metadata::WriteTx& tx) -> Status {
    IMAGED_TRY(tx.put_image(record, layers, manifests));
    const int64_t now = now_ns;
    for (const Reference& r : tags) IMAGED_TRY(tx.set_tag(r.name(), *r.tag(), out.id, now));
    for (const std::string& repo : digest_repos) {
      std::string name = repo;
      if (auto parsed = Reference::parse(repo)) name = parsed->name();
      IMAGED_TRY(tx.add_repo_digest(name, out.manifest_digest, out.id));
    }
    return {};
  }),
       "import image");
  return out;
}

bool StoreFixture::has_blob(const std::string& digest) const {
  auto d = Digest::parse(digest);
  return d && std::filesystem::exists(content_->path_of(*d));
}

}  // namespace imaged::testing
