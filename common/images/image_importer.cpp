#include "common/images/image_importer.h"

#include <zlib.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <shared_mutex>

#include "common/content/content.h"
#include "common/images/archive_api.h"
#include "common/images/blob_sweeper.h"
#include "common/images/dockerfile_changes.h"
#include "common/images/event_log.h"
#include "common/images/image_records.h"
#include "common/images/image_tagger.h"
#include "common/images/layer_digester.h"
#include "common/images/manifest_synth.h"
#include "common/images/timestamps.h"
#include "common/metadata/metadata_store.h"

namespace imaged::images {

namespace {

using nlohmann::ordered_json;

Error bad(std::string message) { return Error{Errc::InvalidArgument, std::move(message)}; }

// zlib's gzip stream (default level, as Go's gzip.Writer that dockerd compresses layers with).
class GzipWriter {
 public:
  using Sink = std::function<Status(std::span<const std::byte>)>;
  explicit GzipWriter(Sink sink) : sink_(std::move(sink)), out_(256 * 1024) {}
  ~GzipWriter() {
    if (ready_) deflateEnd(&z_);
  }
  Status init() {
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
      return fail(Errc::Internal, "gzip: deflateInit2 failed");
    ready_ = true;
    return {};
  }
  Status write(std::span<const char> in) { return run(in, Z_NO_FLUSH); }
  Status finish() { return run({}, Z_FINISH); }

 private:
  Status run(std::span<const char> in, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(out_.data());
      z_.avail_out = static_cast<uInt>(out_.size());
      const int r = deflate(&z_, flush);
      if (r == Z_STREAM_ERROR) return fail(Errc::Internal, "gzip: deflate failed");
      const size_t n = out_.size() - z_.avail_out;
      if (n) IMAGED_TRY(sink_(std::span(out_.data(), n)));
      if (flush == Z_FINISH ? r == Z_STREAM_END : z_.avail_in == 0 && z_.avail_out != 0) break;
    }
    return {};
  }

  Sink sink_;
  std::vector<std::byte> out_;
  z_stream z_{};
  bool ready_ = false;
};

std::string ingest_ref() {
  std::random_device rd;
  return "import-" + std::to_string(rd()) + "-" + std::to_string(rd());
}

}  // namespace

ImageImporter::ImageImporter(content::Store& content, metadata::MetadataStore& metadata,
                             EventLog& events, BlobSweeper* sweeper, ImageImporterOptions options)
    : content_(content),
      metadata_(metadata),
      events_(events),
      sweeper_(sweeper),
      options_(std::move(options)) {}

Result<Digest> ImageImporter::import(const ImportRequest& request, const ByteSource& source) {
  ContainerConfig container;
  IMAGED_TRY(apply_dockerfile_changes(container, request.changes));

  // ---- 1. The upload, decompressed, becomes one gzip layer blob. ----
  const std::string ref = ingest_ref();
  auto writer = IMAGED_TRY(content_.writer(ref, -1));
  struct AbortIngest {
    content::Store& store;
    const std::string& ref;
    std::unique_ptr<content::Writer>& writer;
    ~AbortIngest() {
      if (!writer) return;
      writer->close();
      (void)store.abort(ref);
    }
  } abort_ingest{content_, ref, writer};
  auto digester = IMAGED_TRY(LayerDigester::create(*writer, oci::Compression::Gzip));
  GzipWriter gzip([&](std::span<const std::byte> b) { return digester->write(b); });
  IMAGED_TRY(gzip.init());
  {
    auto in = IMAGED_TRY(ArchiveInput::open(source, ArchiveFormat::Raw, "reading the upload"));
    const ArchiveApi& ar = in->api();
    archive_entry* e = nullptr;
    const int r = ar.archive_read_next_header(in->get(), &e);
    if (r < ARCHIVE_WARN && r != ARCHIVE_EOF) return fail(in->error("reading the upload"));
    if (r != ARCHIVE_EOF) {
      std::vector<char> buf(256 * 1024);
      for (;;) {
        const la_ssize_t n = ar.archive_read_data(in->get(), buf.data(), buf.size());
        if (n < 0) return fail(in->error("the upload does not decompress"));
        if (n == 0) break;
        IMAGED_TRY(gzip.write(std::span<const char>(buf.data(), static_cast<size_t>(n))));
      }
    }
  }
  IMAGED_TRY(gzip.finish());
  IMAGED_TRY(digester->flush());
  const LayerDigests layer = IMAGED_TRY(digester->finish());
  digester.reset();
  if (!layer.unpacked_note.empty())
    return fail(bad("the upload is not a tar archive: " + layer.unpacked_note));

  std::vector<Digest> committed;
  std::optional<std::shared_lock<std::shared_mutex>> guard;
  if (sweeper_) guard.emplace(sweeper_->ingest_guard());
  auto commit_blob = [&](const Digest& d, auto&& write) -> Status {
    const bool existed = content_.info(d).has_value();
    IMAGED_TRY(write());
    if (!existed) committed.push_back(d);
    return {};
  };
  auto stored = [&]() -> Result<Digest> {
    IMAGED_TRY(commit_blob(layer.digest, [&]() -> Status {
      Status st = writer->commit(layer.size, layer.digest);
      writer.reset();
      (void)content_.abort(ref);
      if (!st && st.error().code != Errc::AlreadyExists) return st;
      return {};
    }));

    // ---- 2. Config (keys sorted: moby's Image.MarshalJSON) and manifest. ----
    const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
    const std::string created = format_rfc3339_nano(now_ns);
    const std::string message =
        request.message.empty() ? "Imported from " + request.source : request.message;
    ordered_json history = ordered_json::object();
    history["created"] = created;
    history["comment"] = message;
    ordered_json rootfs = ordered_json::object();
    rootfs["type"] = "layers";
    rootfs["diff_ids"] = ordered_json::array({layer.diff_id.str()});
    ordered_json config = ordered_json::object();
    config["architecture"] = request.platform.architecture;
    config["comment"] = message;
    config["config"] = container_config_json(container);
    config["container_config"] = container_config_json(ContainerConfig{});
    config["created"] = created;
    if (!options_.docker_version.empty()) config["docker_version"] = options_.docker_version;
    config["history"] = ordered_json::array({history});
    config["os"] = request.platform.os;
    config["rootfs"] = std::move(rootfs);
    if (!request.platform.variant.empty()) config["variant"] = request.platform.variant;
    const std::string config_bytes = config.dump();
    const Digest id = Digest::of(config_bytes);
    const oci::ImageConfig parsed = IMAGED_TRY(oci::parse_image_config(config_bytes));

    metadata::ImageRecord image = image_record(id, parsed, std::string(oci::kDockerConfig),
                                               static_cast<int64_t>(config_bytes.size()), now_ns);
    const std::vector<metadata::LayerRecord> layers{
        metadata::LayerRecord{.digest = layer.digest.str(),
                              .diff_id = layer.diff_id.str(),
                              .size = layer.size,
                              .uncompressed_size = layer.uncompressed_size,
                              .media_type = std::string(oci::kDockerLayerGzip),
                              .unpacked_size = layer.unpacked_size}};
    const std::string manifest_bytes = synthesize_docker_manifest(image, layers);
    const metadata::ManifestRecord manifest{.digest = Digest::of(manifest_bytes).str(),
                                            .media_type = std::string(oci::kDockerManifest),
                                            .size = static_cast<int64_t>(manifest_bytes.size()),
                                            .kind = metadata::ManifestKind::Manifest,
                                            .platform = platform_text(parsed)};
    IMAGED_TRY(commit_blob(
        id, [&] { return content::write_blob(content_, ref + "-config", config_bytes, id); }));
    const Digest manifest_digest = Digest::of(manifest_bytes);
    IMAGED_TRY(commit_blob(manifest_digest, [&] {
      return content::write_blob(content_, ref + "-manifest", manifest_bytes, manifest_digest);
    }));

    // ---- 3. Rows, then the tag and the event, as dockerd logs them (tag, then import). ----
    IMAGED_TRY(metadata_.write([&](metadata::WriteTx& tx) -> Status {
      if (!IMAGED_TRY(tx.put_image(image, layers, std::span(&manifest, 1))))
        IMAGED_TRY(tx.add_manifests(image.id, std::span(&manifest, 1)));
      return {};
    }));
    return id;
  }();
  if (!stored) {
    guard.reset();
    remove_unreferenced(content_, metadata_, committed);
    return fail(stored.error().context("storing the imported image"));
  }
  guard.reset();
  const Digest id = *stored;
  if (request.tag) IMAGED_TRY(tag_image(metadata_, events_, id.str(), *request.tag));
  const std::string labels =
      container.labels ? nlohmann::json(*container.labels).dump() : std::string("{}");
  IMAGED_TRY(events_.append(image_event("import", id.str(), id.str(), labels)));
  return id;
}

}  // namespace imaged::images
