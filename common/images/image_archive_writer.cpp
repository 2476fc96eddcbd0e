#include "common/images/image_archive_writer.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>

#include "common/content/content.h"
#include "common/images/archive_api.h"
#include "common/images/event_log.h"
#include "common/images/image_lookup.h"
#include "common/images/manifest_synth.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"
#include "common/reference.h"

namespace imaged::images {

namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kChunk = 1 << 20;
constexpr time_t kEpoch = 0;  // entries carry a fixed mtime, as moby's OCI export

// A streaming tar writer over libarchive, writing through a ByteSink.
class TarOut {
 public:
  TarOut(const ArchiveApi& ar, const ByteSink& sink)
      : ar_(ar), sink_(sink), a_(ar.archive_write_new()) {}
  ~TarOut() {
    if (a_) ar_.archive_write_free(a_);
  }
  TarOut(const TarOut&) = delete;
  TarOut& operator=(const TarOut&) = delete;

  Status open() {
    if (!a_) return fail(Errc::Internal, "archive_write_new failed");
    ar_.archive_write_set_format_pax_restricted(a_);
    ar_.archive_write_set_bytes_in_last_block(a_, 1);
    if (ar_.archive_write_open2(a_, this, nullptr, &TarOut::write_cb, nullptr, nullptr) !=
        ARCHIVE_OK)
      return fail(error("opening the tar stream"));
    return {};
  }

  Status header(const std::string& path, int64_t size, bool dir = false) {
    std::unique_ptr<archive_entry, decltype(ar_.archive_entry_free)> e(ar_.archive_entry_new(),
                                                                       ar_.archive_entry_free);
    ar_.archive_entry_set_pathname(e.get(), path.c_str());
    ar_.archive_entry_set_filetype(e.get(), dir ? AE_IFDIR : AE_IFREG);
    ar_.archive_entry_set_perm(e.get(), dir ? 0755 : 0644);
    ar_.archive_entry_set_size(e.get(), dir ? 0 : size);
    ar_.archive_entry_set_mtime(e.get(), kEpoch, 0);
    if (ar_.archive_write_header(a_, e.get()) != ARCHIVE_OK) return fail(error("writing " + path));
    return {};
  }

  Status data(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
      la_ssize_t n = ar_.archive_write_data(a_, bytes.data(), bytes.size());
      if (n < 0) return fail(error("writing tar data"));
      bytes = bytes.subspan(static_cast<size_t>(n));
    }
    return {};
  }

  Status file(const std::string& path, std::string_view text) {
    IMAGED_TRY(header(path, static_cast<int64_t>(text.size())));
    return data(std::as_bytes(std::span(text.data(), text.size())));
  }

  Status close() {
    if (ar_.archive_write_close(a_) != ARCHIVE_OK) return fail(error("finishing the tar stream"));
    return {};
  }

 private:
  static la_ssize_t write_cb(archive*, void* self, const void* buf, size_t n) {
    auto* t = static_cast<TarOut*>(self);
    if (!t->sink_(std::string_view(static_cast<const char*>(buf), n))) {
      t->canceled_ = true;
      return -1;
    }
    return static_cast<la_ssize_t>(n);
  }
  Error error(const std::string& what) const {
    if (canceled_) return Error{Errc::Canceled, "the client went away during save"};
    const char* msg = ar_.archive_error_string(a_);
    return Error{Errc::Internal, what + ": " + (msg ? msg : "libarchive error")};
  }

  const ArchiveApi& ar_;
  const ByteSink& sink_;
  archive* a_;
  bool canceled_ = false;
};

std::string blob_path(std::string_view digest) {
  return "blobs/sha256/" + std::string(digest.substr(7));
}

}  // namespace

ImageArchiveWriter::ImageArchiveWriter(content::Provider& content,
                                       metadata::MetadataStore& metadata, EventLog& events)
    : content_(content), metadata_(metadata), events_(events) {}

Result<SavePlan> ImageArchiveWriter::plan(const std::vector<std::string>& names) {
  if (names.empty()) return fail(Errc::InvalidArgument, "no image names given");
  return metadata_.read([&](metadata::ReadTx& tx) -> Result<SavePlan> {
    SavePlan plan;
    auto add = [&](const std::string& id, std::optional<Reference> ref) -> Status {
      auto it = std::find_if(plan.images.begin(), plan.images.end(),
                             [&](const SaveImage& s) { return s.image.id == id; });
      if (it == plan.images.end()) {
        SaveImage s;
        s.image = IMAGED_TRY(tx.get_image(id));
        s.layers = IMAGED_TRY(tx.layers_of(id));
        auto manifests = IMAGED_TRY(tx.manifests_of(id));
        auto m = std::find_if(manifests.begin(), manifests.end(), [](const auto& r) {
          return r.kind == metadata::ManifestKind::Manifest;
        });
        if (m != manifests.end()) {
          s.manifest = *m;
        } else {
          s.synthesized_manifest = synthesize_docker_manifest(s.image, s.layers);
          s.manifest =
              metadata::ManifestRecord{.digest = Digest::of(s.synthesized_manifest).str(),
                                       .media_type = std::string(oci::kDockerManifest),
                                       .size = static_cast<int64_t>(s.synthesized_manifest.size())};
        }
        plan.images.push_back(std::move(s));
        it = plan.images.end() - 1;
      }
      if (ref && ref->tag()) {
        const std::string familiar = ref->familiar();
        if (std::find(it->repo_tags.begin(), it->repo_tags.end(), familiar) ==
            it->repo_tags.end()) {
          it->repo_tags.push_back(familiar);
          it->full_refs.push_back(ref->str());
        }
      }
      return {};
    };
    for (const std::string& name : names) {
      // A repository without a tag: every tag of it (dockerd's save of a bare name).
      auto parsed = Reference::parse(name);
      if (parsed && !parsed->tag() && !parsed->digest() && name.find(':') == std::string::npos) {
        auto tags = IMAGED_TRY(tx.list_tags());
        bool any = false;
        for (const auto& t : tags) {
          if (t.repository != parsed->name()) continue;
          any = true;
          IMAGED_TRY(add(t.image_id, parsed->with_tag(t.tag)));
        }
        if (any) continue;
      }
      auto found = IMAGED_TRY(lookup_image(tx, name));
      std::optional<Reference> ref = found.ref;
      if (ref && !ref->tag()) ref.reset();
      if (ref && ref->digest()) ref = ref->without_tag_or_digest().with_tag(*ref->tag());
      IMAGED_TRY(add(found.image_id, ref));
    }
    return plan;
  });
}

Status ImageArchiveWriter::write(const SavePlan& plan, const ByteSink& sink) {
  TarOut tar(*IMAGED_TRY(archive_api()), sink);
  IMAGED_TRY(tar.open());
  IMAGED_TRY(tar.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})"));
  IMAGED_TRY(tar.header("blobs", 0, true));
  IMAGED_TRY(tar.header("blobs/sha256", 0, true));

  std::set<std::string> written;
  std::vector<std::byte> buf(kChunk);
  auto copy_blob = [&](const std::string& digest_text) -> Status {
    if (!written.insert(digest_text).second) return {};
    const Digest digest = IMAGED_TRY(Digest::parse(digest_text));
    auto reader = IMAGED_TRY(content_.open(digest));
    const int64_t size = reader->size();
    IMAGED_TRY(tar.header(blob_path(digest_text), size));
    int64_t offset = 0;
    while (offset < size) {
      size_t n = IMAGED_TRY(reader->read_at(buf, offset));
      if (n == 0) return fail(Errc::DataLoss, "blob " + digest_text + " is shorter than recorded");
      IMAGED_TRY(tar.data(std::span(buf.data(), n)));
      offset += static_cast<int64_t>(n);
    }
    return {};
  };

  ojson index_manifests = ojson::array();
  ojson docker_manifest = ojson::array();
  ojson repositories = ojson::object();
  for (const SaveImage& s : plan.images) {
    IMAGED_TRY(copy_blob(s.image.id));
    for (const auto& l : s.layers) IMAGED_TRY(copy_blob(l.digest));
    if (s.synthesized_manifest.empty()) {
      IMAGED_TRY(copy_blob(s.manifest.digest));
    } else if (written.insert(s.manifest.digest).second) {
      IMAGED_TRY(tar.file(blob_path(s.manifest.digest), s.synthesized_manifest));
    }

    auto descriptor = [&](const std::string* full, const std::string* tag) {
      ojson d;
      d["mediaType"] = s.manifest.media_type;
      d["digest"] = s.manifest.digest;
      d["size"] = s.manifest.size;
      if (full) {
        ojson ann;
        ann["io.containerd.image.name"] = *full;
        ann["org.opencontainers.image.ref.name"] = *tag;
        d["annotations"] = ann;
      }
      return d;
    };
    if (s.full_refs.empty()) {
      index_manifests.push_back(descriptor(nullptr, nullptr));
    } else {
      for (const auto& full : s.full_refs) {
        auto ref = Reference::parse(full);
        const std::string tag = ref && ref->tag() ? *ref->tag() : "latest";
        index_manifests.push_back(descriptor(&full, &tag));
        if (ref && !s.layers.empty())
          repositories[ref->familiar_name()][tag] = s.layers.back().digest.substr(7);
      }
    }
    ojson entry;
    entry["Config"] = blob_path(s.image.id);
    entry["RepoTags"] = s.repo_tags.empty() ? ojson(nullptr) : ojson(s.repo_tags);
    ojson layers = ojson::array();
    for (const auto& l : s.layers) layers.push_back(blob_path(l.digest));
    entry["Layers"] = layers;
    docker_manifest.push_back(entry);
  }
  ojson index;
  index["schemaVersion"] = 2;
  index["mediaType"] = std::string(oci::kOciIndex);
  index["manifests"] = index_manifests;
  IMAGED_TRY(tar.file("index.json", index.dump() + "\n"));
  IMAGED_TRY(tar.file("manifest.json", docker_manifest.dump() + "\n"));
  if (!repositories.empty()) IMAGED_TRY(tar.file("repositories", repositories.dump() + "\n"));
  IMAGED_TRY(tar.close());

  for (const SaveImage& s : plan.images)
    (void)events_.append(image_event("save", s.image.id, s.image.id, s.image.labels_json));
  return {};
}

}  // namespace imaged::images
