#include "common/metadata/schema.h"

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "common/metadata/metadata_store.h"
#include "common/metadata/schema_image.h"
#include "common/metadata/sqlite.h"
#include "tests/common/metadata/metadata_test_util.h"

using imaged::Errc;
using namespace imaged::metadata;
using namespace imaged::metadata::testing;

namespace {

// meta.db as version 1 of imaged wrote it. Hand-written on purpose (not taken from schema.cpp):
// this is what databases in the field look like, whatever schema.cpp becomes.
constexpr const char* kVersion1Schema = R"sql(
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY NOT NULL,
  size INTEGER NOT NULL CHECK (size >= 0),
  uncompressed_size INTEGER NOT NULL CHECK (uncompressed_size >= 0),
  kind TEXT NOT NULL CHECK (kind IN ('config', 'manifest', 'layer')),
  refs INTEGER NOT NULL CHECK (refs >= 0)
) WITHOUT ROWID;
CREATE INDEX blobs_by_kind ON blobs(kind, size, uncompressed_size);
CREATE TABLE images (
  id TEXT PRIMARY KEY NOT NULL REFERENCES blobs(digest),
  created_ns INTEGER NOT NULL DEFAULT 0,
  os TEXT NOT NULL DEFAULT '',
  architecture TEXT NOT NULL DEFAULT '',
  variant TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '',
  docker_version TEXT NOT NULL DEFAULT '',
  comment TEXT NOT NULL DEFAULT '',
  size INTEGER NOT NULL DEFAULT 0,
  content_size INTEGER NOT NULL DEFAULT 0,
  labels_json TEXT NOT NULL DEFAULT '{}',
  config_media_type TEXT NOT NULL,
  config_size INTEGER NOT NULL,
  added_ns INTEGER NOT NULL,
  last_tag_ns INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE tags (
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id),
  tagged_ns INTEGER NOT NULL,
  PRIMARY KEY (repository, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_image ON tags(image_id);
CREATE TABLE repo_digests (
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  image_id TEXT NOT NULL REFERENCES images(id),
  PRIMARY KEY (repository, digest)
) WITHOUT ROWID;
CREATE INDEX repo_digests_by_image ON repo_digests(image_id);
CREATE TABLE image_layers (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  diff_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  uncompressed_size INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  PRIMARY KEY (image_id, position)
) WITHOUT ROWID;
CREATE INDEX image_layers_by_digest ON image_layers(digest);
CREATE TABLE image_manifests (
  image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('manifest', 'index')),
  platform TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (image_id, digest)
) WITHOUT ROWID;
CREATE INDEX image_manifests_by_digest ON image_manifests(digest);
PRAGMA application_id = 1229801284;
PRAGMA user_version = 1;
)sql";

Connection raw_open(const TempDir& dir) {
  return must(Connection::open(dir.db(), ConnectionOptions{}));
}

// Everything a database's schema is: its objects, versions and the rows migrations insert.
std::string describe_schema(Connection& conn) {
  std::string out =
      "user_version " + std::to_string(must(schema_version(conn))) + "\napplication_id " +
      std::to_string(must(conn.query_int("PRAGMA application_id"))) + "\njournal_mode " +
      must(conn.query_text("PRAGMA journal_mode")) + "\nnames_version rows " +
      std::to_string(must(conn.query_int("SELECT count(*) FROM names_version"))) + "\n";
  Statement st =
      must(conn.prepare("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema "
                        "ORDER BY type, name"));
  while (must(st.step()))
    out += st.text(0) + " " + st.text(1) + " on " + st.text(2) + ": " + st.text(3) + "\n";
  return out;
}

}  // namespace

TEST_CASE("schema: a fresh database gets the latest version in WAL mode", "[metadata]") {
  TempDir dir;
  {
    auto store = open_store(dir);
    must(store->check_integrity());
  }
  Connection conn = raw_open(dir);
  CHECK(must(schema_version(conn)) == kSchemaVersion);
  CHECK(must(conn.query_int("PRAGMA application_id")) == kApplicationId);
  CHECK(must(conn.query_text("PRAGMA journal_mode")) == "wal");
  for (const char* table : {"images", "tags", "repo_digests", "image_layers", "image_manifests",
                            "blobs", "tag_history", "events"}) {
    INFO(table);
    Statement st = must(conn.prepare("SELECT count(*) FROM sqlite_schema WHERE name = ?1"));
    st.bind(1, table);
    REQUIRE(must(st.step()));
    CHECK(st.int64(0) == 1);
  }
}

TEST_CASE("schema: the built-in fresh image is what the migrations produce", "[metadata]") {
  TempDir migrated_dir, image_dir;
  std::string migrated;
  {
    Connection conn = raw_open(migrated_dir);
    must(conn.exec("PRAGMA journal_mode = WAL"));
    must(migrate(conn));
    migrated = describe_schema(conn);
  }
  const auto image = fresh_schema_image();
  REQUIRE(image.size() % 512 == 0);
  std::ofstream(image_dir.db(), std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()),
             static_cast<std::streamsize>(image.size()));
  Connection conn = raw_open(image_dir);
  CHECK(must(conn.query_text("PRAGMA integrity_check")) == "ok");
  CHECK(describe_schema(conn) == migrated);
}

TEST_CASE("schema: reopening a current database changes nothing", "[metadata]") {
  TempDir dir;
  const auto spec = make_image("a", {make_layer("l1", 10)});
  {
    auto store = open_store(dir);
    must(put(*store, spec));
  }
  auto store = open_store(dir);
  CHECK(must(store->read([&](ReadTx& tx) { return tx.get_image(spec.image.id); })).id ==
        spec.image.id);
}

TEST_CASE("schema: a version 1 database migrates and keeps its data", "[metadata]") {
  TempDir dir;
  const std::string config = digest_of("config:old");
  const std::string layer = digest_of("layer:old");
  {
    Connection conn = raw_open(dir);
    must(conn.exec(kVersion1Schema));
    Statement st = must(conn.prepare(
        "INSERT INTO blobs VALUES (?1, 100, 100, 'config', 1), (?2, 10, 30, 'layer', 1)"));
    st.bind_all(config, layer);
    must(st.run());
    Statement img = must(conn.prepare(
        "INSERT INTO images (id, created_ns, os, architecture, size, content_size, "
        "config_media_type, config_size, added_ns) "
        "VALUES (?1, 7, 'linux', 'arm64', 30, 110, 'application/vnd.oci.image.config.v1+json', "
        "100, 8)"));
    img.bind(1, config);
    must(img.run());
    Statement lay = must(conn.prepare(
        "INSERT INTO image_layers VALUES (?1, 0, ?2, ?3, 10, 30, 'application/x-tar')"));
    lay.bind_all(config, layer, digest_of("diff:old"));
    must(lay.run());
    Statement tag =
        must(conn.prepare("INSERT INTO tags VALUES ('docker.io/library/old', 'v1', ?1, 9)"));
    tag.bind(1, config);
    must(tag.run());
  }

  auto store = open_store(dir);
  {
    Connection conn = raw_open(dir);
    CHECK(must(schema_version(conn)) == kSchemaVersion);
  }
  // Old rows are intact and have the new columns' defaults.
  const ImageRecord image = must(store->read([&](ReadTx& tx) { return tx.get_image(config); }));
  CHECK(image.architecture == "arm64");
  CHECK(image.created_ns == 7);
  CHECK(image.size == 30);
  CHECK_FALSE(image.pinned);
  CHECK(image.last_used_ns == std::nullopt);
  CHECK(must(store->read([&](ReadTx& tx) {
          return tx.resolve_tag("docker.io/library/old", "v1");
        })) == std::optional<std::string>(config));
  CHECK(must(store->read([&](ReadTx& tx) { return tx.blob_refs(layer); })) == 1);
  // Layers recorded before version 4 have no unpacked size: sizes fall back to the tar's.
  const auto layers = must(store->read([&](ReadTx& tx) { return tx.layers_of(config); }));
  REQUIRE(layers.size() == 1);
  CHECK(layers[0].unpacked_size == std::nullopt);
  CHECK(layers[0].diff_size() == 30);
  CHECK(must(store->read([](ReadTx& tx) { return tx.usage(); })).layers_diff_size == 30);
  // The new tables work.
  must(store->write([&](WriteTx& tx) -> imaged::Status {
    IMAGED_TRY(tx.set_pinned(config, true));
    IMAGED_TRY(tx.set_tag("docker.io/library/old", "v2", config, 20));
    IMAGED_TRY(tx.append_event(EventRecord{0, 20, "image", "tag", config, "{}"}));
    return {};
  }));
  CHECK(must(store->read([&](ReadTx& tx) {
          return tx.tag_history("docker.io/library/old", "v2", 10);
        })).size() == 1);
  must(store->check_integrity());
}

TEST_CASE("schema: a database newer than this build is refused untouched", "[metadata]") {
  TempDir dir;
  { auto store = open_store(dir); }
  {
    Connection conn = raw_open(dir);
    must(conn.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)));
  }
  auto store = MetadataStore::open(dir.db());
  REQUIRE_FALSE(store);
  CHECK(store.error().code == Errc::FailedPrecondition);
  CHECK_THAT(store.error().message, Catch::Contains("newer"));
  CHECK_THAT(store.error().message,
             Catch::Contains("schema version " + std::to_string(kSchemaVersion + 1)));
  Connection conn = raw_open(dir);
  CHECK(must(schema_version(conn)) == kSchemaVersion + 1);
}

TEST_CASE("schema: an SQLite file that is not ours is refused", "[metadata]") {
  TempDir dir;
  {
    Connection conn = raw_open(dir);
    must(conn.exec("CREATE TABLE something_else (x INTEGER)"));
  }
  auto store = MetadataStore::open(dir.db());
  REQUIRE_FALSE(store);
  CHECK(store.error().code == Errc::FailedPrecondition);
  CHECK_THAT(store.error().message, Catch::Contains("not an imaged metadata store"));
}

TEST_CASE("schema: a failing migration leaves the database as it was", "[metadata]") {
  TempDir dir;
  {
    Connection conn = raw_open(dir);
    must(conn.exec(kVersion1Schema));
    // Migration 2 creates tag_history; a table already named so makes it fail half-way.
    must(conn.exec("CREATE TABLE tag_history (x INTEGER)"));
  }
  auto store = MetadataStore::open(dir.db());
  REQUIRE_FALSE(store);
  CHECK_THAT(store.error().message, Catch::Contains("migrating meta.db to version 2"));
  Connection conn = raw_open(dir);
  CHECK(must(schema_version(conn)) == 1);
  // The ALTER TABLE that ran before the failure was rolled back too.
  auto column = conn.query_int(
      "SELECT count(*) FROM pragma_table_info('images') "
      "WHERE name = 'pinned'");
  CHECK(must(std::move(column)) == 0);
}
