#include "common/images/image_loader.h"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <shared_mutex>

#include "common/content/content.h"
#include "common/images/archive_api.h"
#include "common/images/blob_sweeper.h"
#include "common/images/event_log.h"
#include "common/images/image_records.h"
#include "common/images/layer_digester.h"
#include "common/images/manifest_synth.h"
#include "common/images/timestamps.h"
#include "common/metadata/metadata_store.h"
#include "common/oci.h"
#include "common/reference.h"

namespace imaged::images {

namespace {

using nlohmann::json;

constexpr size_t kReadChunk = 256 * 1024;

Error bad(std::string message) { return Error{Errc::InvalidArgument, std::move(message)}; }

std::string unique_prefix() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  return "load-" + std::to_string(rd()) + "-" + std::to_string(counter.fetch_add(1)) + "-";
}

// One regular file of the archive.
struct FileEntry {
  std::string path;
  int64_t size = 0;
  Digest digest = Digest::of("");
  std::optional<std::string> bytes;  // small JSON documents are kept in memory
  // Other files stream into an ingest:
  std::string ref;
  std::unique_ptr<content::Writer> writer;
  oci::Compression compression = oci::Compression::None;
  Digest diff_id = Digest::of("");
  int64_t uncompressed_size = 0;
  int64_t unpacked_size = 0;  // LayerDigests::unpacked_size, with its note
  std::string unpacked_note;
  std::optional<std::string> diff_error;
};

// Normalises a tar path: strips "./" and trailing '/', refuses absolute paths, "..", and depth.
Result<std::string> clean_path(const char* raw, int max_depth) {
  if (!raw || !*raw) return fail(bad("archive entry with an empty name"));
  std::string_view p(raw);
  if (p.front() == '/')
    return fail(bad("invalid path in archive: absolute path \"" + std::string(p) + "\""));
  std::string out;
  int depth = 0;
  size_t pos = 0;
  while (pos <= p.size()) {
    size_t end = p.find('/', pos);
    if (end == std::string_view::npos) end = p.size();
    std::string_view part = p.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..")
      return fail(bad("invalid path in archive: \"" + std::string(p) + "\" leaves the archive"));
    if (++depth > max_depth)
      return fail(bad("invalid path in archive: \"" + std::string(p) + "\" is nested too deeply"));
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

std::string_view type_name(mode_t type) {
  switch (type) {
    case AE_IFLNK:
      return "symbolic link";
    case AE_IFCHR:
      return "character device";
    case AE_IFBLK:
      return "block device";
    case AE_IFIFO:
      return "fifo";
    case AE_IFSOCK:
      return "socket";
    default:
      return "unsupported entry";
  }
}

std::string blob_path(const Digest& d) { return "blobs/sha256/" + std::string(d.hex()); }

oci::Compression sniff(std::string_view head) {
  if (head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
      static_cast<unsigned char>(head[1]) == 0x8b)
    return oci::Compression::Gzip;
  if (head.size() >= 4 && static_cast<unsigned char>(head[0]) == 0x28 &&
      static_cast<unsigned char>(head[1]) == 0xb5 && static_cast<unsigned char>(head[2]) == 0x2f &&
      static_cast<unsigned char>(head[3]) == 0xfd)
    return oci::Compression::Zstd;
  return oci::Compression::None;
}

bool looks_like_json(std::string_view head) {
  for (char c : head) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::string_view layer_media_type(oci::Compression c) {
  switch (c) {
    case oci::Compression::Gzip:
      return oci::kDockerLayerGzip;
    case oci::Compression::Zstd:
      return oci::kDockerLayerZstd;
    default:
      return oci::kDockerLayer;
  }
}

// An image found in the archive.
struct Candidate {
  std::string config_path;
  std::string config_media_type = std::string(oci::kDockerConfig);
  std::optional<std::string> manifest_path;  // OCI: the manifest blob, kept byte for byte
  std::string manifest_media_type;
  std::vector<std::string> layer_paths;
  std::vector<std::string> layer_media_types;  // empty entries: from the file's compression
  std::vector<Reference> tags;
  std::vector<Reference> named;  // repositories whose repo digest is the manifest digest
  // Filled by verification:
  metadata::ImageRecord image;
  std::vector<metadata::LayerRecord> layers;
  metadata::ManifestRecord manifest;
  std::string synthesized_manifest;
};

void add_unique(std::vector<Reference>& v, const Reference& r) {
  if (std::find(v.begin(), v.end(), r) == v.end()) v.push_back(r);
}

// The loader's state; aborts every ingest not committed when destroyed.
struct LoadState {
  content::Store& store;
  std::map<std::string, std::unique_ptr<FileEntry>> files;
  std::vector<Digest> newly_committed;
  int open_writers = 0;
  size_t memory = 0;

  explicit LoadState(content::Store& s) : store(s) {}
  ~LoadState() {
    for (auto& [path, f] : files) {
      if (!f->writer) continue;
      f->writer->close();
      (void)store.abort(f->ref);
    }
  }
  FileEntry* find(const std::string& path) {
    auto it = files.find(path);
    return it == files.end() ? nullptr : it->second.get();
  }
};

}  // namespace

ImageLoader::ImageLoader(content::Store& content, metadata::MetadataStore& metadata,
                         EventLog& events, BlobSweeper* sweeper, ImageLoaderOptions options)
    : content_(content),
      metadata_(metadata),
      events_(events),
      sweeper_(sweeper),
      options_(options) {}

Result<std::vector<std::string>> ImageLoader::load(const ByteSource& source) {
  LoadState state(content_);
  const std::string prefix = unique_prefix();

  // ---- 1. Read every entry (nothing committed yet). ----
  {
    auto in = IMAGED_TRY(
        ArchiveInput::open(source, ArchiveFormat::Tar, "the upload is not a tar archive"));
    const ArchiveApi& ar = in->api();
    archive* a = in->get();
    auto archive_error = [&](std::string_view what) { return in->error(what); };
    int entries = 0;
    std::vector<char> buf(kReadChunk);
    for (;;) {
      archive_entry* e = nullptr;
      const int r = ar.archive_read_next_header(a, &e);
      if (r == ARCHIVE_EOF) break;
      if (r < ARCHIVE_WARN)
        return fail(archive_error(entries == 0 ? "the upload is not a tar archive"
                                               : "the tar archive is broken"));
      if (++entries > options_.max_entries)
        return fail(
            bad("the archive has more than " + std::to_string(options_.max_entries) + " entries"));
      const std::string path =
          IMAGED_TRY(clean_path(ar.archive_entry_pathname(e), options_.max_depth));
      if (ar.archive_entry_hardlink(e))
        return fail(bad("archive entry \"" + path + "\" is a hard link, which is not allowed"));
      const mode_t type = ar.archive_entry_filetype(e);
      if (type == AE_IFDIR) continue;
      if (type != AE_IFREG)
        return fail(bad("archive entry \"" + path + "\" is a " + std::string(type_name(type)) +
                        ", which is not allowed"));
      if (path.empty()) return fail(bad("archive entry with an empty name"));
      const int64_t size = ar.archive_entry_size_is_set(e) ? ar.archive_entry_size(e) : -1;
      if (size < 0 || size > options_.max_entry_size)
        return fail(bad("archive entry \"" + path + "\" declares an absurd size (" +
                        std::to_string(size) + " bytes, limit " +
                        std::to_string(options_.max_entry_size) + ")"));
      if (state.files.contains(path))
        return fail(bad("archive entry \"" + path + "\" appears twice"));
      auto f = std::make_unique<FileEntry>();
      f->path = path;
      f->size = size;

      std::string head;  // the first bytes, to decide where the file goes
      bool eof = false;
      auto read_more = [&]() -> Result<size_t> {
        la_ssize_t n = ar.archive_read_data(a, buf.data(), buf.size());
        if (n < 0) return fail(archive_error("the tar archive is broken at \"" + path + "\""));
        return static_cast<size_t>(n);
      };
      while (head.size() < 16 && !eof) {
        size_t n = IMAGED_TRY(read_more());
        if (n == 0) eof = true;
        head.append(buf.data(), n);
      }
      const bool keep = size <= static_cast<int64_t>(options_.max_json) &&
                        state.memory + static_cast<size_t>(size) <= options_.max_memory &&
                        looks_like_json(head);
      std::unique_ptr<LayerDigester> digester;
      FileEntry* raw = f.get();
      auto feed = [&](std::string_view bytes) -> Status {
        if (keep) {
          raw->bytes->append(bytes);
          return {};
        }
        auto span = std::as_bytes(std::span(bytes.data(), bytes.size()));
        return digester->write(span);
      };
      if (keep) {
        f->bytes.emplace();
        state.memory += static_cast<size_t>(size);
      } else {
        if (++state.open_writers > options_.max_open_files)
          return fail(bad("the archive has more than " + std::to_string(options_.max_open_files) +
                          " data files"));
        f->ref = prefix + std::to_string(entries);
        f->writer = IMAGED_TRY(content_.writer(f->ref, size));
        f->compression = sniff(head);
        digester = IMAGED_TRY(LayerDigester::create(*f->writer, f->compression));
      }
      state.files.emplace(path, std::move(f));  // from here on, aborted with the state
      IMAGED_TRY(feed(head));
      while (!eof) {
        size_t n = IMAGED_TRY(read_more());
        if (n == 0) break;
        IMAGED_TRY(feed(std::string_view(buf.data(), n)));
      }
      if (raw->bytes) {
        if (static_cast<int64_t>(raw->bytes->size()) != size)
          return fail(bad("the tar archive is broken at \"" + path + "\": short entry"));
        raw->digest = Digest::of(*raw->bytes);
        raw->diff_id = raw->digest;
        raw->uncompressed_size = raw->unpacked_size = size;
      } else {
        // The digester buffers up to a chunk: hand it to the Writer before counting.
        IMAGED_TRY(digester->flush());
        if (raw->writer->offset() != size)
          return fail(bad("the tar archive is broken at \"" + path + "\": short entry"));
        auto d = digester->finish();
        digester.reset();
        raw->digest = raw->writer->digest_so_far();
        if (d) {
          raw->diff_id = d->diff_id;
          raw->uncompressed_size = d->uncompressed_size;
          raw->unpacked_size = d->unpacked_size;
          raw->unpacked_note = std::move(d->unpacked_note);
        } else {
          raw->diff_error = d.error().message;
        }
      }
    }
  }

  // ---- 2. Find the images. ----
  auto json_of = [&](const std::string& path) -> Result<std::string_view> {
    FileEntry* f = state.find(path);
    if (!f) return fail(bad("\"" + path + "\" is missing from the archive"));
    if (!f->bytes) return fail(bad("\"" + path + "\" in the archive is not a JSON document"));
    return std::string_view(*f->bytes);
  };
  auto blob = [&](const oci::Descriptor& d) -> Result<FileEntry*> {
    if (d.size < 0 || d.size > options_.max_entry_size)
      return fail(bad("descriptor of " + d.digest.str() + " declares an absurd size (" +
                      std::to_string(d.size) + ")"));
    const std::string path = blob_path(d.digest);
    FileEntry* f = state.find(path);
    if (!f) return fail(bad("blob " + d.digest.str() + " is missing from the archive"));
    if (f->digest != d.digest)
      return fail(bad("digest mismatch for \"" + path + "\": its content is " + f->digest.str()));
    if (f->size != d.size)
      return fail(bad("size mismatch for blob " + d.digest.str() + ": the descriptor says " +
                      std::to_string(d.size) + ", the archive holds " + std::to_string(f->size)));
    return f;
  };

  std::vector<Candidate> candidates;
  const bool has_index = state.find("index.json") != nullptr;
  const bool has_manifest_json = state.find("manifest.json") != nullptr;
  if (!has_index && !has_manifest_json)
    return fail(
        bad("the archive has neither manifest.json nor index.json: not a docker image "
            "archive"));

  auto parse_json = [&](const std::string& path) -> Result<json> {
    auto text = IMAGED_TRY(json_of(path));
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) return fail(bad("\"" + path + "\" is not valid JSON"));
    return j;
  };

  if (has_index) {
    const json index = IMAGED_TRY(parse_json("index.json"));
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array())
      return fail(bad("index.json has no manifests list"));
    std::function<Status(const oci::Descriptor&, int, std::optional<Reference>)> visit =
        [&](const oci::Descriptor& d, int depth, std::optional<Reference> name) -> Status {
      FileEntry* f = IMAGED_TRY(blob(d));
      if (d.media_type == oci::kOciIndex || d.media_type == oci::kDockerManifestList) {
        if (depth >= 2) return fail(bad("index " + d.digest.str() + " is nested too deeply"));
        auto text = IMAGED_TRY(json_of(f->path));
        oci::Index idx = IMAGED_TRY(oci::parse_index(text, d.media_type));
        int found = 0;
        for (const auto& child : idx.manifests) {
          if (!state.find(blob_path(child.digest))) continue;  // other platforms are not saved
          IMAGED_TRY(visit(child, depth + 1, name));
          ++found;
        }
        if (found == 0)
          return fail(bad("no manifest of index " + d.digest.str() + " is in the archive"));
        return {};
      }
      auto text = IMAGED_TRY(json_of(f->path));
      oci::Manifest m = IMAGED_TRY(oci::parse_manifest(text, d.media_type));
      IMAGED_TRY(blob(m.config));
      Candidate c;
      c.config_path = blob_path(m.config.digest);
      c.config_media_type = m.config.media_type;
      c.manifest_path = f->path;
      c.manifest_media_type = m.media_type.empty() ? d.media_type : m.media_type;
      for (const auto& l : m.layers) {
        IMAGED_TRY(blob(l));
        c.layer_paths.push_back(blob_path(l.digest));
        c.layer_media_types.push_back(l.media_type);
      }
      // The same manifest named twice: one candidate, several names.
      auto same = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& o) {
        return o.manifest_path == c.manifest_path;
      });
      Candidate& target = same == candidates.end() ? candidates.emplace_back(std::move(c)) : *same;
      if (name) {
        add_unique(target.tags, *name);
        add_unique(target.named, name->without_tag_or_digest());
      }
      return {};
    };
    for (const auto& entry : index["manifests"]) {
      auto d = oci::parse_descriptor(entry);
      if (!d) return fail(bad("index.json: " + d.error().message));
      std::optional<Reference> name;
      if (auto it = d->annotations.find("io.containerd.image.name"); it != d->annotations.end()) {
        auto r = Reference::parse(it->second);
        if (r && r->tag()) name = *r;
      } else if (auto it2 = d->annotations.find("org.opencontainers.image.ref.name");
                 it2 != d->annotations.end() && it2->second.find(':') != std::string::npos) {
        auto r = Reference::parse(it2->second);
        if (r && r->tag()) name = *r;
      }
      IMAGED_TRY(visit(*d, 0, name));
    }
  }

  if (has_manifest_json) {
    const json mj = IMAGED_TRY(parse_json("manifest.json"));
    if (!mj.is_array()) return fail(bad("manifest.json is not a list"));
    for (const auto& entry : mj) {
      if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string())
        return fail(bad("manifest.json: an entry has no Config"));
      const std::string config_path = IMAGED_TRY(
          clean_path(entry["Config"].get_ref<const std::string&>().c_str(), options_.max_depth));
      FileEntry* config = state.find(config_path);
      if (!config)
        return fail(bad("manifest.json names \"" + config_path + "\", which is missing"));
      std::vector<Reference> tags;
      if (auto it = entry.find("RepoTags"); it != entry.end() && it->is_array()) {
        for (const auto& t : *it) {
          if (!t.is_string()) return fail(bad("manifest.json: RepoTags must be strings"));
          auto r = Reference::parse(t.get<std::string>());
          if (!r || !r->tag() || r->digest())
            return fail(bad("manifest.json: invalid RepoTag \"" + t.get<std::string>() + "\""));
          tags.push_back(*r);
        }
      }
      auto same = std::find_if(candidates.begin(), candidates.end(), [&](const Candidate& c) {
        FileEntry* f = state.find(c.config_path);
        return f && f->digest == config->digest;
      });
      if (same != candidates.end()) {
        for (const auto& t : tags) add_unique(same->tags, t);
        continue;
      }
      Candidate c;
      c.config_path = config_path;
      c.tags = std::move(tags);
      auto layers = entry.find("Layers");
      if (layers == entry.end() || !layers->is_array())
        return fail(bad("manifest.json: an entry has no Layers"));
      for (const auto& l : *layers) {
        if (!l.is_string()) return fail(bad("manifest.json: Layers must be strings"));
        const std::string p =
            IMAGED_TRY(clean_path(l.get_ref<const std::string&>().c_str(), options_.max_depth));
        if (!state.find(p))
          return fail(bad("manifest.json names layer \"" + p + "\", which is missing"));
        c.layer_paths.push_back(p);
        c.layer_media_types.emplace_back();
      }
      candidates.push_back(std::move(c));
    }
  }
  if (candidates.empty()) return fail(bad("the archive holds no image"));

  // ---- 3. Verify each image and build its rows. ----
  const int64_t now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (Candidate& c : candidates) {
    FileEntry* cf = state.find(c.config_path);
    auto config_text = IMAGED_TRY(json_of(c.config_path));
    auto config = oci::parse_image_config(config_text);
    if (!config)
      return fail(bad("image config \"" + c.config_path + "\": " + config.error().message));
    if (config->diff_ids.size() != c.layer_paths.size())
      return fail(bad("image config \"" + c.config_path + "\" lists " +
                      std::to_string(config->diff_ids.size()) + " layers, the archive " +
                      std::to_string(c.layer_paths.size())));
    c.image = image_record(cf->digest, *config, c.config_media_type, cf->size, now_ns);
    const metadata::ImageRecord& image = c.image;
    for (size_t i = 0; i < c.layer_paths.size(); ++i) {
      FileEntry* lf = state.find(c.layer_paths[i]);
      if (lf->diff_error)
        return fail(bad("layer \"" + lf->path + "\" does not decompress: " + *lf->diff_error));
      if (lf->diff_id != config->diff_ids[i])
        return fail(bad("layer \"" + lf->path + "\" has diff_id " + lf->diff_id.str() +
                        ", the image config says " + config->diff_ids[i].str()));
      metadata::LayerRecord rec;
      rec.digest = lf->digest.str();
      rec.diff_id = lf->diff_id.str();
      rec.size = lf->size;
      rec.uncompressed_size = lf->uncompressed_size;
      rec.unpacked_size = lf->unpacked_size;
      if (!lf->unpacked_note.empty())
        spdlog::warn("load: layer \"{}\": size as the tar's ({}): {}", lf->path,
                     lf->uncompressed_size, lf->unpacked_note);
      rec.media_type = c.layer_media_types[i].empty()
                           ? std::string(layer_media_type(lf->compression))
                           : c.layer_media_types[i];
      c.layers.push_back(std::move(rec));
    }
    const std::string platform = platform_text(*config);
    if (c.manifest_path) {
      FileEntry* mf = state.find(*c.manifest_path);
      c.manifest = {.digest = mf->digest.str(),
                    .media_type = c.manifest_media_type,
                    .size = mf->size,
                    .kind = metadata::ManifestKind::Manifest,
                    .platform = platform};
    } else {
      c.synthesized_manifest = synthesize_docker_manifest(image, c.layers);
      c.manifest = {.digest = Digest::of(c.synthesized_manifest).str(),
                    .media_type = std::string(oci::kDockerManifest),
                    .size = static_cast<int64_t>(c.synthesized_manifest.size()),
                    .kind = metadata::ManifestKind::Manifest,
                    .platform = platform};
    }
  }

  // ---- 4. Commit blobs, then every row in one transaction. ----
  std::optional<std::shared_lock<std::shared_mutex>> guard;
  if (sweeper_) guard.emplace(sweeper_->ingest_guard());
  std::set<std::string> done;
  auto commit_file = [&](FileEntry* f) -> Status {
    if (!done.insert(f->digest.str()).second) return {};
    const bool existed = content_.info(f->digest).has_value();
    if (f->bytes) {
      IMAGED_TRY(content::write_blob(content_, prefix + "mem", *f->bytes, f->digest));
    } else {
      Status st = f->writer->commit(f->size, f->digest);
      f->writer.reset();
      (void)content_.abort(f->ref);
      if (!st && st.error().code != Errc::AlreadyExists) return st;
    }
    if (!existed) state.newly_committed.push_back(f->digest);
    return {};
  };
  auto commit_all = [&]() -> Status {
    for (Candidate& c : candidates) {
      IMAGED_TRY(commit_file(state.find(c.config_path)));
      for (const auto& p : c.layer_paths) IMAGED_TRY(commit_file(state.find(p)));
      if (c.manifest_path) {
        IMAGED_TRY(commit_file(state.find(*c.manifest_path)));
      } else if (done.insert(c.manifest.digest).second) {
        const Digest d = IMAGED_TRY(Digest::parse(c.manifest.digest));
        const bool existed = content_.info(d).has_value();
        IMAGED_TRY(content::write_blob(content_, prefix + "manifest", c.synthesized_manifest, d));
        if (!existed) state.newly_committed.push_back(d);
      }
    }
    return {};
  };
  auto undo = [&]() { remove_unreferenced(content_, metadata_, state.newly_committed); };
  if (auto st = commit_all(); !st) {
    undo();
    return fail(st.error().context("storing the loaded blobs"));
  }

  std::vector<std::string> lines;
  auto written = metadata_.write([&](metadata::WriteTx& tx) -> Result<bool> {
    for (Candidate& c : candidates) {
      const bool added = IMAGED_TRY(tx.put_image(c.image, c.layers, std::span(&c.manifest, 1)));
      if (!added) IMAGED_TRY(tx.add_manifests(c.image.id, std::span(&c.manifest, 1)));
      for (const Reference& t : c.tags)
        IMAGED_TRY(tx.set_tag(t.name(), *t.tag(), c.image.id, now_ns));
      for (const Reference& r : c.named)
        IMAGED_TRY(tx.add_repo_digest(r.name(), c.manifest.digest, c.image.id));
      IMAGED_TRY(
          events_.append(tx, image_event("load", c.image.id, c.image.id, c.image.labels_json)));
      if (c.tags.empty()) lines.push_back("Loaded image ID: " + c.image.id);
      for (const Reference& t : c.tags) lines.push_back("Loaded image: " + t.familiar());
    }
    return true;
  });
  if (!written) {
    guard.reset();
    undo();
    return fail(written.error().context("recording the loaded images"));
  }
  events_.notify();
  return lines;
}

}  // namespace imaged::images
