#include "common/metadata/transaction.h"

#include <algorithm>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/digest.h"

namespace imaged::metadata {

namespace {

// Column lists shared by the SELECTs and the row readers below; keep them in step.
#define IMAGED_IMAGE_COLUMNS                                                           \
  "id, created_ns, os, architecture, variant, author, docker_version, comment, size, " \
  "content_size, labels_json, config_media_type, config_size, added_ns, last_tag_ns, " \
  "last_used_ns, pinned"
#define IMAGED_EVENT_COLUMNS "id, time_ns, type, action, actor_id, attributes_json"
#define IMAGED_TAG_MOVE_COLUMNS "id, repository, tag, old_image_id, new_image_id, at_ns"

ImageRecord image_row(const Statement& st) {
  ImageRecord r;
  r.id = st.text(0);
  r.created_ns = st.int64(1);
  r.os = st.text(2);
  r.architecture = st.text(3);
  r.variant = st.text(4);
  r.author = st.text(5);
  r.docker_version = st.text(6);
  r.comment = st.text(7);
  r.size = st.int64(8);
  r.content_size = st.int64(9);
  r.labels_json = st.text(10);
  r.config_media_type = st.text(11);
  r.config_size = st.int64(12);
  r.added_ns = st.int64(13);
  r.last_tag_ns = st.int64(14);
  r.last_used_ns = st.opt_int64(15);
  r.pinned = st.int64(16) != 0;
  return r;
}

EventRecord event_row(const Statement& st) {
  return EventRecord{st.int64(0), st.int64(1), st.text(2), st.text(3), st.text(4), st.text(5)};
}

TagMove tag_move_row(const Statement& st) {
  return TagMove{st.int64(0), st.text(1), st.text(2), st.opt_text(3), st.opt_text(4), st.int64(5)};
}

BlobKind blob_kind_from(std::string_view name) {
  if (name == "config") return BlobKind::Config;
  if (name == "manifest") return BlobKind::Manifest;
  return BlobKind::Layer;
}

Status check_digest(std::string_view digest, std::string_view what) {
  auto parsed = Digest::parse(digest);
  if (!parsed) return fail(parsed.error().context(what));
  return {};
}

Status check_size(int64_t size, std::string_view what) {
  if (size < 0) return fail(Errc::InvalidArgument, std::string(what) + " is negative");
  return {};
}

// Runs a cached statement that returns no rows the caller needs.
Status run_sql(Connection& conn, const char* sql) {
  Statement st = IMAGED_TRY(conn.prepare(sql));
  return st.run();
}

// Reads every row of a prepared, bound statement through `row`.
template <class T, class RowFn>
Result<std::vector<T>> collect(Statement& st, RowFn&& row) {
  std::vector<T> out;
  while (IMAGED_TRY(st.step())) out.push_back(row(st));
  return out;
}

std::string short_id(std::string_view id) {
  if (id.starts_with("sha256:")) id.remove_prefix(7);
  return std::string(id.substr(0, 12));
}

Status require_image(Connection& conn, std::string_view image_id) {
  Statement st = IMAGED_TRY(conn.prepare("SELECT 1 FROM images WHERE id = ?1"));
  st.bind(1, image_id);
  if (!IMAGED_TRY(st.step()))
    return fail(Errc::NotFound, "No such image: " + std::string(image_id));
  return {};
}

// Increments the blob's reference count, creating its row with refs = 1 when missing; an
// existing row without an unpacked size takes this one. InvalidArgument when the row exists with
// a different size (the same digest cannot have two sizes: one of the callers is wrong).
Status add_blob_ref(Connection& conn, std::string_view digest, int64_t size,
                    int64_t uncompressed_size, std::optional<int64_t> unpacked_size,
                    BlobKind kind) {
  Statement st = IMAGED_TRY(
      conn.prepare("INSERT INTO blobs (digest, size, uncompressed_size, kind, refs, unpacked_size) "
                   "VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT (digest) DO UPDATE SET "
                   "refs = refs + 1, unpacked_size = IFNULL(unpacked_size, excluded.unpacked_size) "
                   "RETURNING size"));
  st.bind_all(digest, size, uncompressed_size, blob_kind_name(kind), unpacked_size);
  if (!IMAGED_TRY(st.step())) return fail(Errc::Internal, "upsert of blob returned no row");
  if (st.int64(0) != size) {
    return fail(Errc::InvalidArgument, "blob " + std::string(digest) + " is recorded with " +
                                           std::to_string(st.int64(0)) + " bytes, not " +
                                           std::to_string(size));
  }
  return {};
}

// True when the image already references the digest in any role (config, layer, manifest).
Result<bool> image_references(Connection& conn, std::string_view image_id,
                              std::string_view digest) {
  Statement st = IMAGED_TRY(conn.prepare(
      "SELECT 1 WHERE ?1 = ?2 "
      "OR EXISTS (SELECT 1 FROM image_layers WHERE image_id = ?1 AND digest = ?2) "
      "OR EXISTS (SELECT 1 FROM image_manifests WHERE image_id = ?1 AND digest = ?2)"));
  st.bind_all(image_id, digest);
  return IMAGED_TRY(st.step());
}

Status validate_manifest(const ManifestRecord& m) {
  IMAGED_TRY(check_digest(m.digest, "manifest digest"));
  IMAGED_TRY(check_size(m.size, "manifest size"));
  return {};
}

Status insert_manifest(Connection& conn, std::string_view image_id, const ManifestRecord& m) {
  Statement st = IMAGED_TRY(conn.prepare(
      "INSERT INTO image_manifests (image_id, digest, media_type, size, kind, platform) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"));
  st.bind_all(image_id, m.digest, m.media_type, m.size, manifest_kind_name(m.kind), m.platform);
  return st.run();
}

// The number of distinct images referencing blobs.digest, as a correlated subquery on the three
// referencing tables (each probe uses an index). Used by the integrity check and the repair.
// LayerRecord::diff_size() of image_layers row `l`.
#define IMAGED_LAYER_DIFF_SIZE "IFNULL(l.unpacked_size, l.uncompressed_size)"

#define IMAGED_RECOUNT_REFS                                              \
  "(SELECT count(*) FROM ("                                              \
  "SELECT id FROM images WHERE id = blobs.digest "                       \
  "UNION SELECT image_id FROM image_layers WHERE digest = blobs.digest " \
  "UNION SELECT image_id FROM image_manifests WHERE digest = blobs.digest))"

}  // namespace

// ---------------------------------------------------------------- ReadTx: images

Result<ImageRecord> ReadTx::get_image(std::string_view id) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT " IMAGED_IMAGE_COLUMNS " FROM images WHERE id = ?1"));
  st.bind(1, id);
  if (!IMAGED_TRY(st.step())) return fail(Errc::NotFound, "No such image: " + std::string(id));
  return image_row(st);
}

Result<std::vector<std::string>> ReadTx::find_image_ids_by_prefix(std::string_view hex_prefix,
                                                                  int64_t limit) const {
  std::string_view hex = hex_prefix;
  if (hex.starts_with("sha256:")) hex.remove_prefix(7);
  const bool is_hex = std::all_of(hex.begin(), hex.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (hex.empty() || hex.size() > 64 || !is_hex) {
    return fail(Errc::InvalidArgument,
                "invalid image id prefix \"" + std::string(hex_prefix) + "\"");
  }
  if (limit <= 0) return std::vector<std::string>{};
  // Every id with this prefix sorts in [sha256:<prefix>, sha256:<prefix>g): 'g' follows every
  // hex digit, so this is one range scan of the primary key.
  const std::string low = "sha256:" + std::string(hex);
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT id FROM images WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3"));
  st.bind_all(low, low + "g", limit);
  return collect<std::string>(st, [](const Statement& s) { return s.text(0); });
}

Result<std::vector<ImageRecord>> ReadTx::list_images() const {
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT " IMAGED_IMAGE_COLUMNS " FROM images ORDER BY created_ns DESC, id"));
  return collect<ImageRecord>(st, image_row);
}

Result<int64_t> ReadTx::image_count() const {
  return conn_.query_int("SELECT count(*) FROM images");
}

Result<std::vector<LayerRecord>> ReadTx::layers_of(std::string_view image_id) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT digest, diff_id, size, uncompressed_size, media_type, "
                               "unpacked_size FROM image_layers WHERE image_id = ?1 "
                               "ORDER BY position"));
  st.bind(1, image_id);
  return collect<LayerRecord>(st, [](const Statement& s) {
    return LayerRecord{s.text(0), s.text(1), s.int64(2), s.int64(3), s.text(4), s.opt_int64(5)};
  });
}

Result<std::vector<ManifestRecord>> ReadTx::manifests_of(std::string_view image_id) const {
  // 'index' sorts before 'manifest': indexes first, as they were walked during the pull.
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT digest, media_type, size, kind, platform "
                               "FROM image_manifests WHERE image_id = ?1 ORDER BY kind, digest"));
  st.bind(1, image_id);
  return collect<ManifestRecord>(st, [](const Statement& s) {
    return ManifestRecord{s.text(0), s.text(1), s.int64(2),
                          s.text(3) == "index" ? ManifestKind::Index : ManifestKind::Manifest,
                          s.text(4)};
  });
}

// ---------------------------------------------------------------- ReadTx: names

Result<std::vector<TagRecord>> ReadTx::list_tags() const {
  Statement st = IMAGED_TRY(conn_.prepare(
      "SELECT repository, tag, image_id, tagged_ns FROM tags ORDER BY repository, tag"));
  return collect<TagRecord>(st, [](const Statement& s) {
    return TagRecord{s.text(0), s.text(1), s.text(2), s.int64(3)};
  });
}

Result<std::vector<RepoDigestRecord>> ReadTx::list_repo_digests() const {
  Statement st = IMAGED_TRY(conn_.prepare(
      "SELECT repository, digest, image_id FROM repo_digests ORDER BY repository, digest"));
  return collect<RepoDigestRecord>(st, [](const Statement& s) {
    return RepoDigestRecord{s.text(0), s.text(1), s.text(2)};
  });
}

Result<std::vector<TagRecord>> ReadTx::tags_of(std::string_view image_id) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT repository, tag, image_id, tagged_ns FROM tags "
                               "WHERE image_id = ?1 ORDER BY repository, tag"));
  st.bind(1, image_id);
  return collect<TagRecord>(st, [](const Statement& s) {
    return TagRecord{s.text(0), s.text(1), s.text(2), s.int64(3)};
  });
}

Result<std::vector<TagRecord>> ReadTx::tag_names_of(std::string_view image_id) const {
  // Covering: tags_by_image holds (image_id) plus the primary key (repository, tag).
  Statement st = IMAGED_TRY(conn_.prepare(
      "SELECT repository, tag FROM tags WHERE image_id = ?1 ORDER BY repository, tag"));
  st.bind(1, image_id);
  std::vector<TagRecord> out;
  while (IMAGED_TRY(st.step())) out.push_back(TagRecord{st.text(0), st.text(1), {}, 0});
  for (TagRecord& t : out) t.image_id = image_id;
  return out;
}

Result<std::vector<RepoDigestRecord>> ReadTx::repo_digests_of(std::string_view image_id) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT repository, digest, image_id FROM repo_digests "
                               "WHERE image_id = ?1 ORDER BY repository, digest"));
  st.bind(1, image_id);
  return collect<RepoDigestRecord>(st, [](const Statement& s) {
    return RepoDigestRecord{s.text(0), s.text(1), s.text(2)};
  });
}

Result<std::optional<std::string>> ReadTx::resolve_tag(std::string_view repository,
                                                       std::string_view tag) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT image_id FROM tags WHERE repository = ?1 AND tag = ?2"));
  st.bind_all(repository, tag);
  if (!IMAGED_TRY(st.step())) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<std::optional<std::string>> ReadTx::resolve_repo_digest(std::string_view repository,
                                                               std::string_view digest) const {
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT image_id FROM repo_digests WHERE repository = ?1 AND digest = ?2"));
  st.bind_all(repository, digest);
  if (!IMAGED_TRY(st.step())) return std::optional<std::string>();
  return std::optional<std::string>(st.text(0));
}

Result<std::vector<TagMove>> ReadTx::tag_history(std::string_view repository, std::string_view tag,
                                                 int64_t limit) const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT " IMAGED_TAG_MOVE_COLUMNS " FROM tag_history "
                               "WHERE repository = ?1 AND tag = ?2 ORDER BY id DESC LIMIT ?3"));
  st.bind_all(repository, tag, limit);
  return collect<TagMove>(st, tag_move_row);
}

Result<int64_t> ReadTx::names_version() const {
  return conn_.query_int("SELECT version FROM names_version WHERE id = 1");
}

// ---------------------------------------------------------------- ReadTx: blobs and usage

Result<int64_t> ReadTx::blob_refs(std::string_view digest) const {
  Statement st = IMAGED_TRY(conn_.prepare("SELECT refs FROM blobs WHERE digest = ?1"));
  st.bind(1, digest);
  if (!IMAGED_TRY(st.step())) return int64_t{0};
  return st.int64(0);
}

Result<bool> ReadTx::is_blob_referenced(std::string_view digest) const {
  return IMAGED_TRY(blob_refs(digest)) > 0;
}

Result<std::vector<std::string>> ReadTx::referenced_blobs() const {
  Statement st =
      IMAGED_TRY(conn_.prepare("SELECT digest FROM blobs WHERE refs > 0 ORDER BY digest"));
  return collect<std::string>(st, [](const Statement& s) { return s.text(0); });
}

Result<std::vector<BlobRecord>> ReadTx::list_blobs() const {
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT digest, size, uncompressed_size, kind, refs, unpacked_size FROM blobs "
                    "ORDER BY digest"));
  return collect<BlobRecord>(st, [](const Statement& s) {
    BlobRecord r{s.text(0), s.int64(1), s.int64(2), blob_kind_from(s.text(3)), s.int64(4)};
    r.unpacked_size = s.opt_int64(5);
    return r;
  });
}

Result<StoreUsage> ReadTx::usage() const {
  // Rows with refs = 0 never survive a transaction, so no filter on refs is needed and the sums
  // are one scan of the covering index blobs_by_kind.
  Statement st = IMAGED_TRY(conn_.prepare(
      "SELECT (SELECT count(*) FROM images), count(*), IFNULL(SUM(size), 0), "
      "IFNULL(SUM(CASE WHEN kind = 'layer' THEN size END), 0), "
      "IFNULL(SUM(CASE WHEN kind = 'layer' THEN uncompressed_size END), 0), "
      "IFNULL(SUM(CASE WHEN kind = 'layer' THEN IFNULL(unpacked_size, uncompressed_size) END), 0) "
      "FROM blobs"));
  if (!IMAGED_TRY(st.step())) return fail(Errc::Internal, "usage query returned no row");
  return StoreUsage{st.int64(0), st.int64(1), st.int64(2), st.int64(3), st.int64(4), st.int64(5)};
}

Result<int64_t> ReadTx::shared_size(std::string_view image_id) const {
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT IFNULL(SUM(" IMAGED_LAYER_DIFF_SIZE "), 0) FROM image_layers l "
                    "JOIN blobs b ON b.digest = l.digest WHERE l.image_id = ?1 AND b.refs > 1"));
  st.bind(1, image_id);
  if (!IMAGED_TRY(st.step())) return int64_t{0};
  return st.int64(0);
}

Result<std::unordered_map<std::string, int64_t>> ReadTx::shared_sizes() const {
  Statement st =
      IMAGED_TRY(conn_.prepare(
          "SELECT l.image_id, SUM(CASE WHEN b.refs > 1 THEN " IMAGED_LAYER_DIFF_SIZE " ELSE 0 END) "
          "FROM image_layers l JOIN blobs b ON b.digest = l.digest GROUP BY l.image_id"));
  std::unordered_map<std::string, int64_t> out;
  while (IMAGED_TRY(st.step())) out.emplace(st.text(0), st.int64(1));
  return out;
}

// ---------------------------------------------------------------- ReadTx: events

Result<std::vector<EventRecord>> ReadTx::events(int64_t since_ns, int64_t until_ns,
                                                int64_t limit) const {
  Statement st = IMAGED_TRY(
      conn_.prepare("SELECT " IMAGED_EVENT_COLUMNS " FROM events "
                    "WHERE time_ns >= ?1 AND time_ns <= ?2 ORDER BY time_ns, id LIMIT ?3"));
  st.bind_all(since_ns, until_ns, limit);
  return collect<EventRecord>(st, event_row);
}

Result<std::vector<EventRecord>> ReadTx::events_after(int64_t after_id, int64_t limit) const {
  Statement st = IMAGED_TRY(conn_.prepare("SELECT " IMAGED_EVENT_COLUMNS
                                          " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"));
  st.bind_all(after_id, limit);
  return collect<EventRecord>(st, event_row);
}

// ---------------------------------------------------------------- ReadTx: integrity

Status ReadTx::check_integrity() const {
  std::vector<std::string> problems;

  // 1. SQLite's own structure check (b-trees, indexes, NOT NULL/CHECK constraints).
  {
    Statement st = IMAGED_TRY(conn_.prepare("PRAGMA quick_check"));
    while (IMAGED_TRY(st.step())) {
      std::string line = st.text(0);
      if (line != "ok") problems.push_back("quick_check: " + line);
    }
  }
  // 2. Dangling references (only possible if something wrote with foreign keys off).
  {
    Statement st = IMAGED_TRY(conn_.prepare("PRAGMA foreign_key_check"));
    std::map<std::pair<std::string, std::string>, int64_t> dangling;
    while (IMAGED_TRY(st.step())) ++dangling[{st.text(0), st.text(2)}];
    for (const auto& [tables, count] : dangling) {
      problems.push_back(std::to_string(count) + " row(s) of " + tables.first +
                         " reference missing rows of " + tables.second);
    }
  }
  // 3. Reference counts against a recount, and referenced digests without a blobs row.
  {
    Statement st = IMAGED_TRY(conn_.prepare("SELECT digest, refs, " IMAGED_RECOUNT_REFS
                                            " AS actual FROM blobs WHERE refs != actual"));
    while (IMAGED_TRY(st.step())) {
      problems.push_back("blob " + st.text(0) + " has refs " + std::to_string(st.int64(1)) +
                         " but " + std::to_string(st.int64(2)) + " image(s) reference it");
    }
  }
  {
    Statement st = IMAGED_TRY(conn_.prepare(
        "SELECT digest FROM (SELECT id AS digest FROM images "
        "UNION SELECT digest FROM image_layers UNION SELECT digest FROM image_manifests) "
        "WHERE digest NOT IN (SELECT digest FROM blobs)"));
    while (IMAGED_TRY(st.step())) {
      problems.push_back("blob " + st.text(0) + " is referenced but has no blobs row");
    }
  }

  if (problems.empty()) return {};
  constexpr size_t kShown = 10;
  std::string message = "meta.db is inconsistent: ";
  for (size_t i = 0; i < problems.size() && i < kShown; ++i) {
    if (i > 0) message += "; ";
    message += problems[i];
  }
  if (problems.size() > kShown) {
    message += "; and " + std::to_string(problems.size() - kShown) + " more";
  }
  return fail(Errc::DataLoss, std::move(message));
}

// ---------------------------------------------------------------- WriteTx

template <class F>
auto WriteTx::atomically(F&& fn) -> decltype(fn()) {
  IMAGED_TRY(run_sql(conn_, "SAVEPOINT tx_method"));
  auto result = fn();
  if (result) {
    IMAGED_TRY(run_sql(conn_, "RELEASE tx_method"));
    return result;
  }
  // SQLite may already have rolled the whole transaction back (e.g. after SQLITE_FULL); then
  // there is no savepoint left and write() reports that the transaction ended early.
  if (!conn_.autocommit()) {
    (void)run_sql(conn_, "ROLLBACK TO tx_method");
    (void)run_sql(conn_, "RELEASE tx_method");
  }
  return result;
}

Result<bool> WriteTx::put_image(const ImageRecord& image, std::span<const LayerRecord> layers,
                                std::span<const ManifestRecord> manifests) {
  // 1. Validate everything before touching the database.
  IMAGED_TRY(check_digest(image.id, "image id"));
  IMAGED_TRY(check_size(image.config_size, "config size"));
  if (image.config_media_type.empty()) {
    return fail(Errc::InvalidArgument, "image " + image.id + " has no config media type");
  }
  for (const LayerRecord& layer : layers) {
    IMAGED_TRY(check_digest(layer.digest, "layer digest"));
    IMAGED_TRY(check_digest(layer.diff_id, "layer diff_id"));
    IMAGED_TRY(check_size(layer.size, "layer size"));
    IMAGED_TRY(check_size(layer.uncompressed_size, "layer uncompressed size"));
    if (layer.unpacked_size) IMAGED_TRY(check_size(*layer.unpacked_size, "layer unpacked size"));
  }
  for (size_t i = 0; i < manifests.size(); ++i) {
    IMAGED_TRY(validate_manifest(manifests[i]));
    for (size_t j = 0; j < i; ++j) {
      if (manifests[j].digest == manifests[i].digest) {
        return fail(Errc::InvalidArgument, "manifest " + manifests[i].digest + " listed twice");
      }
    }
  }

  // 2. The distinct blobs the image references (a layer may appear at several positions).
  struct Blob {
    std::string_view digest;
    int64_t size;
    int64_t uncompressed_size;
    std::optional<int64_t> unpacked_size;
    BlobKind kind;
  };
  std::vector<Blob> blobs;
  std::unordered_map<std::string_view, size_t> seen;
  auto add = [&](std::string_view digest, int64_t size, int64_t usize,
                 std::optional<int64_t> unpacked, BlobKind kind) -> Status {
    auto [it, inserted] = seen.emplace(digest, blobs.size());
    if (inserted) {
      blobs.push_back(Blob{digest, size, usize, unpacked, kind});
    } else if (blobs[it->second].size != size) {
      return fail(Errc::InvalidArgument,
                  "blob " + std::string(digest) + " is listed with two sizes in image " + image.id);
    }
    return {};
  };
  IMAGED_TRY(add(image.id, image.config_size, image.config_size, std::nullopt, BlobKind::Config));
  for (const ManifestRecord& m : manifests) {
    IMAGED_TRY(add(m.digest, m.size, m.size, std::nullopt, BlobKind::Manifest));
  }
  int64_t size = 0;
  for (const LayerRecord& l : layers) {
    IMAGED_TRY(add(l.digest, l.size, l.uncompressed_size, l.unpacked_size, BlobKind::Layer));
    size += l.diff_size();
  }
  int64_t content_size = 0;
  for (const Blob& b : blobs) content_size += b.size;

  // 3. Insert: blobs first (the other rows reference them), then the image and its children.
  return atomically([&]() -> Result<bool> {
    {
      Statement st = IMAGED_TRY(conn_.prepare("SELECT 1 FROM images WHERE id = ?1"));
      st.bind(1, image.id);
      if (IMAGED_TRY(st.step())) return false;
    }
    for (const Blob& b : blobs) {
      IMAGED_TRY(
          add_blob_ref(conn_, b.digest, b.size, b.uncompressed_size, b.unpacked_size, b.kind));
    }
    {
      Statement st = IMAGED_TRY(conn_.prepare(
          "INSERT INTO images (" IMAGED_IMAGE_COLUMNS
          ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
          "?17)"));
      st.bind_all(image.id, image.created_ns, image.os, image.architecture, image.variant,
                  image.author, image.docker_version, image.comment, size, content_size,
                  image.labels_json, image.config_media_type, image.config_size, image.added_ns,
                  image.last_tag_ns, image.last_used_ns, int64_t{image.pinned ? 1 : 0});
      IMAGED_TRY(st.run());
    }
    for (size_t i = 0; i < layers.size(); ++i) {
      const LayerRecord& l = layers[i];
      Statement st = IMAGED_TRY(conn_.prepare(
          "INSERT INTO image_layers (image_id, position, digest, diff_id, size, "
          "uncompressed_size, media_type, unpacked_size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
      st.bind_all(image.id, static_cast<int64_t>(i), l.digest, l.diff_id, l.size,
                  l.uncompressed_size, l.media_type, l.unpacked_size);
      IMAGED_TRY(st.run());
    }
    for (const ManifestRecord& m : manifests) IMAGED_TRY(insert_manifest(conn_, image.id, m));
    return true;
  });
}

Result<int64_t> WriteTx::add_manifests(std::string_view image_id,
                                       std::span<const ManifestRecord> manifests) {
  for (const ManifestRecord& m : manifests) IMAGED_TRY(validate_manifest(m));
  return atomically([&]() -> Result<int64_t> {
    IMAGED_TRY(require_image(conn_, image_id));
    int64_t added = 0;
    int64_t added_bytes = 0;
    for (const ManifestRecord& m : manifests) {
      // Already reached through this manifest (or, absurdly, the digest is one of its layers):
      // the image counts once per blob.
      const bool known = IMAGED_TRY(image_references(conn_, image_id, m.digest));
      if (known) continue;
      IMAGED_TRY(add_blob_ref(conn_, m.digest, m.size, m.size, std::nullopt, BlobKind::Manifest));
      IMAGED_TRY(insert_manifest(conn_, image_id, m));
      ++added;
      added_bytes += m.size;
    }
    if (added_bytes > 0) {
      Statement st = IMAGED_TRY(
          conn_.prepare("UPDATE images SET content_size = content_size + ?2 WHERE id = ?1"));
      st.bind_all(image_id, added_bytes);
      IMAGED_TRY(st.run());
    }
    return added;
  });
}

Result<std::optional<std::string>> WriteTx::set_tag(std::string_view repository,
                                                    std::string_view tag, std::string_view image_id,
                                                    int64_t now_ns) {
  if (repository.empty() || tag.empty()) {
    return fail(Errc::InvalidArgument, "a tag needs a repository and a tag name");
  }
  return atomically([&]() -> Result<std::optional<std::string>> {
    IMAGED_TRY(require_image(conn_, image_id));
    std::optional<std::string> old = IMAGED_TRY(resolve_tag(repository, tag));
    {
      Statement st = IMAGED_TRY(conn_.prepare(
          "INSERT INTO tags (repository, tag, image_id, tagged_ns) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT (repository, tag) DO UPDATE "
          "SET image_id = excluded.image_id, tagged_ns = excluded.tagged_ns"));
      st.bind_all(repository, tag, image_id, now_ns);
      IMAGED_TRY(st.run());
    }
    const bool changed = !old || *old != image_id;
    if (changed) {
      Statement st = IMAGED_TRY(conn_.prepare(
          "INSERT INTO tag_history (repository, tag, old_image_id, new_image_id, at_ns) "
          "VALUES (?1, ?2, ?3, ?4, ?5)"));
      st.bind_all(repository, tag, old, image_id, now_ns);
      IMAGED_TRY(st.run());
    }
    {
      Statement st = IMAGED_TRY(conn_.prepare("UPDATE images SET last_tag_ns = ?2 WHERE id = ?1"));
      st.bind_all(image_id, now_ns);
      IMAGED_TRY(st.run());
    }
    if (old && changed) return old;
    return std::optional<std::string>();
  });
}

Result<std::string> WriteTx::remove_tag(std::string_view repository, std::string_view tag,
                                        int64_t now_ns) {
  return atomically([&]() -> Result<std::string> {
    std::string image_id;
    {
      Statement st = IMAGED_TRY(
          conn_.prepare("DELETE FROM tags WHERE repository = ?1 AND tag = ?2 RETURNING image_id"));
      st.bind_all(repository, tag);
      if (!IMAGED_TRY(st.step())) {
        return fail(Errc::NotFound,
                    "No such tag: " + std::string(repository) + ":" + std::string(tag));
      }
      image_id = st.text(0);
    }
    Statement st = IMAGED_TRY(conn_.prepare(
        "INSERT INTO tag_history (repository, tag, old_image_id, new_image_id, at_ns) "
        "VALUES (?1, ?2, ?3, NULL, ?4)"));
    st.bind_all(repository, tag, image_id, now_ns);
    IMAGED_TRY(st.run());
    return image_id;
  });
}

Result<bool> WriteTx::add_repo_digest(std::string_view repository, std::string_view digest,
                                      std::string_view image_id) {
  if (repository.empty()) return fail(Errc::InvalidArgument, "a repo digest needs a repository");
  IMAGED_TRY(check_digest(digest, "repo digest"));
  IMAGED_TRY(require_image(conn_, image_id));
  // One statement: atomic on its own.
  Statement st = IMAGED_TRY(
      conn_.prepare("INSERT INTO repo_digests (repository, digest, image_id) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT (repository, digest) DO UPDATE SET image_id = excluded.image_id "
                    "WHERE image_id != excluded.image_id"));
  st.bind_all(repository, digest, image_id);
  IMAGED_TRY(st.run());
  return conn_.changes() > 0;
}

Status WriteTx::remove_repo_digest(std::string_view repository, std::string_view digest) {
  Statement st =
      IMAGED_TRY(conn_.prepare("DELETE FROM repo_digests WHERE repository = ?1 AND digest = ?2"));
  st.bind_all(repository, digest);
  IMAGED_TRY(st.run());
  if (conn_.changes() == 0) {
    return fail(Errc::NotFound,
                "No such repo digest: " + std::string(repository) + "@" + std::string(digest));
  }
  return {};
}

Result<std::vector<std::string>> WriteTx::delete_image(std::string_view image_id) {
  auto result = atomically([&]() -> Result<std::vector<std::string>> {
    // 1. The image must exist and nothing may name it any more.
    IMAGED_TRY(require_image(conn_, image_id));
    {
      Statement st =
          IMAGED_TRY(conn_.prepare("SELECT (SELECT count(*) FROM tags WHERE image_id = ?1), "
                                   "(SELECT count(*) FROM repo_digests WHERE image_id = ?1)"));
      st.bind(1, image_id);
      IMAGED_TRY(st.step());
      if (st.int64(0) > 0 || st.int64(1) > 0) {
        return fail(Errc::Conflict, "image " + short_id(image_id) + " is still named by " +
                                        std::to_string(st.int64(0)) + " tag(s) and " +
                                        std::to_string(st.int64(1)) + " repo digest(s)");
      }
    }
    // 2. Its distinct blobs, read before the cascade removes the rows that list them.
    std::vector<std::string> digests;
    {
      Statement st = IMAGED_TRY(
          conn_.prepare("SELECT ?1 UNION SELECT digest FROM image_layers WHERE image_id = ?1 "
                        "UNION SELECT digest FROM image_manifests WHERE image_id = ?1"));
      st.bind(1, image_id);
      digests = IMAGED_TRY(collect<std::string>(st, [](const Statement& s) { return s.text(0); }));
    }
    // 3. The image row; image_layers and image_manifests follow by ON DELETE CASCADE.
    {
      Statement st = IMAGED_TRY(conn_.prepare("DELETE FROM images WHERE id = ?1"));
      st.bind(1, image_id);
      IMAGED_TRY(st.run());
    }
    // 4. Decrement; a row reaching 0 goes. The foreign keys refuse to delete a blobs row that
    //    another image still lists, so a wrong count can never orphan a blob in use.
    std::vector<std::string> orphaned;
    for (const std::string& digest : digests) {
      Statement dec = IMAGED_TRY(
          conn_.prepare("UPDATE blobs SET refs = refs - 1 WHERE digest = ?1 RETURNING refs"));
      dec.bind(1, digest);
      auto row = dec.step();
      if (!row && row.error().code == Errc::Conflict) {
        return fail(Errc::DataLoss, "blob " + digest + " has refs 0 while image " +
                                        short_id(image_id) + " references it; repair the refs");
      }
      if (!IMAGED_TRY(std::move(row))) {
        return fail(Errc::DataLoss, "blob " + digest + " referenced by image " +
                                        short_id(image_id) + " has no blobs row; repair the refs");
      }
      if (dec.int64(0) > 0) continue;
      Statement del = IMAGED_TRY(conn_.prepare("DELETE FROM blobs WHERE digest = ?1"));
      del.bind(1, digest);
      Status removed = del.run();
      if (!removed && removed.error().code == Errc::Conflict) {
        return fail(Errc::DataLoss,
                    "blob " + digest + " has refs 0 but is still referenced; repair the refs");
      }
      IMAGED_TRY(std::move(removed));
      orphaned.push_back(digest);
    }
    std::sort(orphaned.begin(), orphaned.end());
    return orphaned;
  });
  if (result && !result->empty()) sync_on_commit_ = true;
  return result;
}

Status WriteTx::touch_last_used(std::string_view image_id, int64_t now_ns) {
  Statement st = IMAGED_TRY(conn_.prepare("UPDATE images SET last_used_ns = ?2 WHERE id = ?1"));
  st.bind_all(image_id, now_ns);
  IMAGED_TRY(st.run());
  if (conn_.changes() == 0) return fail(Errc::NotFound, "No such image: " + std::string(image_id));
  return {};
}

Status WriteTx::set_pinned(std::string_view image_id, bool pinned) {
  Statement st = IMAGED_TRY(conn_.prepare("UPDATE images SET pinned = ?2 WHERE id = ?1"));
  st.bind_all(image_id, int64_t{pinned ? 1 : 0});
  IMAGED_TRY(st.run());
  if (conn_.changes() == 0) return fail(Errc::NotFound, "No such image: " + std::string(image_id));
  return {};
}

Result<int64_t> WriteTx::append_event(const EventRecord& event) {
  Statement st = IMAGED_TRY(
      conn_.prepare("INSERT INTO events (time_ns, type, action, actor_id, attributes_json) "
                    "VALUES (?1, ?2, ?3, ?4, ?5)"));
  st.bind_all(event.time_ns, event.type, event.action, event.actor_id, event.attributes_json);
  IMAGED_TRY(st.run());
  return conn_.last_insert_rowid();
}

Result<int64_t> WriteTx::prune_events(int64_t older_than_ns) {
  Statement st = IMAGED_TRY(conn_.prepare("DELETE FROM events WHERE time_ns < ?1"));
  st.bind(1, older_than_ns);
  IMAGED_TRY(st.run());
  return conn_.changes();
}

Result<RefRepair> WriteTx::recompute_blob_refs() {
  auto result = atomically([&]() -> Result<RefRepair> {
    RefRepair repair;
    // 1. Rows for referenced digests that lack one, sizes from the referencing rows. "WHERE
    //    true" lets the parser tell the upsert clause from a join's ON.
    IMAGED_TRY(
        run_sql(conn_,
                "INSERT INTO blobs (digest, size, uncompressed_size, kind, refs, unpacked_size) "
                "SELECT digest, size, usize, kind, 0, unpacked FROM ("
                "SELECT id AS digest, config_size AS size, config_size AS usize, 'config' AS kind, "
                "NULL AS unpacked FROM images "
                "UNION ALL SELECT digest, size, size, 'manifest', NULL FROM image_manifests "
                "UNION ALL SELECT digest, size, uncompressed_size, 'layer', unpacked_size "
                "FROM image_layers) "
                "WHERE true ON CONFLICT (digest) DO NOTHING"));
    repair.rows_added = conn_.changes();
    // 2. Every count from a recount (the rows just added start at 0 and are fixed here too).
    IMAGED_TRY(run_sql(conn_, "UPDATE blobs SET refs = " IMAGED_RECOUNT_REFS
                              " WHERE refs != " IMAGED_RECOUNT_REFS));
    repair.refs_fixed = conn_.changes() - repair.rows_added;
    // 3. Rows nothing references.
    Statement st = IMAGED_TRY(conn_.prepare("DELETE FROM blobs WHERE refs = 0 RETURNING digest"));
    repair.orphaned =
        IMAGED_TRY(collect<std::string>(st, [](const Statement& s) { return s.text(0); }));
    std::sort(repair.orphaned.begin(), repair.orphaned.end());
    return repair;
  });
  if (result && !result->orphaned.empty()) sync_on_commit_ = true;
  return result;
}

}  // namespace imaged::metadata
