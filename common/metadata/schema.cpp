// The one place that knows the schema of meta.db.
//
// Rules for changing it:
//   1. Never edit a migration that has shipped; append a new one and bump kSchemaVersion.
//   2. A migration is plain SQL run inside the migrating transaction, with foreign_keys OFF so
//      that table rebuilds (SQLite's "12-step" ALTER) are possible; migrate() runs
//      foreign_key_check before committing.
//   3. Keep tests/common/metadata/schema_test.cpp's hand-written older schemas as they are:
//      they are what real databases in the field look like.
#include "common/metadata/schema.h"

#include <array>
#include <string>

namespace imaged::metadata {

namespace {

struct Migration {
  int version;              // user_version after this migration
  const char* description;  // for error messages
  const char* sql;
};

constexpr std::array kMigrations = {
    Migration{1, "images, names, layers, manifests and blob reference counts", R"sql(
-- Every content blob some image references, with the number of images referencing it (an image
-- counts once per distinct blob). The row goes away when refs drops to 0: whatever file has no
-- row is garbage. Child tables reference it, so a row still in use cannot be deleted.
CREATE TABLE blobs (
  digest            TEXT PRIMARY KEY NOT NULL,
  size              INTEGER NOT NULL CHECK (size >= 0),
  uncompressed_size INTEGER NOT NULL CHECK (uncompressed_size >= 0),
  kind              TEXT NOT NULL CHECK (kind IN ('config', 'manifest', 'layer')),
  refs              INTEGER NOT NULL CHECK (refs >= 0)
) WITHOUT ROWID;
-- Covering index for the df totals (SUM of sizes per kind).
CREATE INDEX blobs_by_kind ON blobs(kind, size, uncompressed_size);

-- An image is its config blob: id = "sha256:<config digest hex>".
CREATE TABLE images (
  id                TEXT PRIMARY KEY NOT NULL REFERENCES blobs(digest),
  created_ns        INTEGER NOT NULL DEFAULT 0,
  os                TEXT NOT NULL DEFAULT '',
  architecture      TEXT NOT NULL DEFAULT '',
  variant           TEXT NOT NULL DEFAULT '',
  author            TEXT NOT NULL DEFAULT '',
  docker_version    TEXT NOT NULL DEFAULT '',
  comment           TEXT NOT NULL DEFAULT '',
  size              INTEGER NOT NULL DEFAULT 0,
  content_size      INTEGER NOT NULL DEFAULT 0,
  labels_json       TEXT NOT NULL DEFAULT '{}',
  config_media_type TEXT NOT NULL,
  config_size       INTEGER NOT NULL,
  added_ns          INTEGER NOT NULL,
  last_tag_ns       INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- No ON DELETE CASCADE on names: an image is deleted only once nothing names it.
CREATE TABLE tags (
  repository TEXT NOT NULL,
  tag        TEXT NOT NULL,
  image_id   TEXT NOT NULL REFERENCES images(id),
  tagged_ns  INTEGER NOT NULL,
  PRIMARY KEY (repository, tag)
) WITHOUT ROWID;
CREATE INDEX tags_by_image ON tags(image_id);

CREATE TABLE repo_digests (
  repository TEXT NOT NULL,
  digest     TEXT NOT NULL,
  image_id   TEXT NOT NULL REFERENCES images(id),
  PRIMARY KEY (repository, digest)
) WITHOUT ROWID;
CREATE INDEX repo_digests_by_image ON repo_digests(image_id);

CREATE TABLE image_layers (
  image_id          TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  position          INTEGER NOT NULL,
  digest            TEXT NOT NULL REFERENCES blobs(digest),
  diff_id           TEXT NOT NULL,
  size              INTEGER NOT NULL,
  uncompressed_size INTEGER NOT NULL,
  media_type        TEXT NOT NULL,
  PRIMARY KEY (image_id, position)
) WITHOUT ROWID;
CREATE INDEX image_layers_by_digest ON image_layers(digest);

-- Every manifest and index blob an image was pulled through.
CREATE TABLE image_manifests (
  image_id   TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  digest     TEXT NOT NULL REFERENCES blobs(digest),
  media_type TEXT NOT NULL,
  size       INTEGER NOT NULL,
  kind       TEXT NOT NULL CHECK (kind IN ('manifest', 'index')),
  platform   TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (image_id, digest)
) WITHOUT ROWID;
CREATE INDEX image_manifests_by_digest ON image_manifests(digest);

PRAGMA application_id = 1229801284;
)sql"},
    Migration{2, "last use, pins, tag history and the event log", R"sql(
ALTER TABLE images ADD COLUMN last_used_ns INTEGER;
ALTER TABLE images ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));

-- Every creation, move and removal of a tag. Image ids here are not foreign keys: history
-- outlives the images. AUTOINCREMENT keeps ids increasing even after pruning.
CREATE TABLE tag_history (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  repository   TEXT NOT NULL,
  tag          TEXT NOT NULL,
  old_image_id TEXT,
  new_image_id TEXT,
  at_ns        INTEGER NOT NULL,
  CHECK (old_image_id IS NOT NULL OR new_image_id IS NOT NULL)
);
CREATE INDEX tag_history_by_name ON tag_history(repository, tag, id);

CREATE TABLE events (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  time_ns         INTEGER NOT NULL,
  type            TEXT NOT NULL,
  action          TEXT NOT NULL,
  actor_id        TEXT NOT NULL DEFAULT '',
  attributes_json TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_by_time ON events(time_ns);
)sql"},
    Migration{3, "names version: a counter of changes to images, tags and repo digests", R"sql(
-- Bumped by every change of the tables readers derive image names from, so that a reader can
-- keep what it derived (the image list, 10k+ tags) and validate it with one row read
-- (ReadTx::names_version). Triggers, so that every writer counts, other processes included.
CREATE TABLE names_version (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
);
INSERT INTO names_version (id, version) VALUES (1, 0);
CREATE TRIGGER names_version_images_insert AFTER INSERT ON images
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_images_update AFTER UPDATE ON images
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_images_delete AFTER DELETE ON images
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_tags_insert AFTER INSERT ON tags
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_tags_update AFTER UPDATE ON tags
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_tags_delete AFTER DELETE ON tags
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_repo_digests_insert AFTER INSERT ON repo_digests
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_repo_digests_update AFTER UPDATE ON repo_digests
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER names_version_repo_digests_delete AFTER DELETE ON repo_digests
  BEGIN UPDATE names_version SET version = version + 1 WHERE id = 1; END;
)sql"},
    Migration{4, "unpacked layer sizes (dockerd's DiffSize)", R"sql(
-- Bytes of a layer unpacked, as dockerd's overlay2 measures them; NULL for layers recorded before
-- (readers fall back to uncompressed_size). In both tables, like uncompressed_size.
ALTER TABLE image_layers ADD COLUMN unpacked_size INTEGER CHECK (unpacked_size >= 0);
ALTER TABLE blobs ADD COLUMN unpacked_size INTEGER CHECK (unpacked_size >= 0);
DROP INDEX blobs_by_kind;
CREATE INDEX blobs_by_kind ON blobs(kind, size, uncompressed_size, unpacked_size);
)sql"},
};

static_assert(kMigrations.back().version == kSchemaVersion,
              "the last migration must produce kSchemaVersion");
static_assert(kApplicationId == 1229801284, "migration 1 writes the application id literally");

// Runs `fn` with foreign-key enforcement off, turning it back on whatever happens.
template <class F>
Status without_foreign_keys(Connection& conn, F&& fn) {
  IMAGED_TRY(conn.exec("PRAGMA foreign_keys = OFF"));
  Status result = fn();
  Status restored = conn.exec("PRAGMA foreign_keys = ON");
  if (!result) return result;
  return restored;
}

Status apply_missing(Connection& conn) {
  // Another process may have migrated between our first look and BEGIN IMMEDIATE.
  const int version = IMAGED_TRY(schema_version(conn));
  if (version > kSchemaVersion) {
    return fail(Errc::FailedPrecondition, "meta.db has schema version " + std::to_string(version) +
                                              ", newer than this imaged understands (" +
                                              std::to_string(kSchemaVersion) +
                                              "); upgrade imaged or restore a backup");
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= version) continue;
    Status st = conn.exec(m.sql);
    if (!st) {
      return fail(st.error().context("migrating meta.db to version " + std::to_string(m.version) +
                                     " (" + m.description + ")"));
    }
  }
  // A migration that rebuilt a table must not have left dangling references behind.
  Statement check = IMAGED_TRY(conn.prepare("PRAGMA foreign_key_check"));
  if (IMAGED_TRY(check.step())) {
    return fail(Errc::DataLoss, "migrating meta.db left a dangling reference in table " +
                                    check.text(0) + " to table " + check.text(2));
  }
  return conn.exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
}

}  // namespace

Result<int> schema_version(Connection& conn) {
  return static_cast<int>(IMAGED_TRY(conn.query_int("PRAGMA user_version")));
}

Status check_schema(Connection& conn) {
  const int version = IMAGED_TRY(schema_version(conn));
  if (version > kSchemaVersion) {
    return fail(Errc::FailedPrecondition, "meta.db has schema version " + std::to_string(version) +
                                              ", newer than this imaged understands (" +
                                              std::to_string(kSchemaVersion) +
                                              "); upgrade imaged or restore a backup");
  }
  const int64_t app_id = IMAGED_TRY(conn.query_int("PRAGMA application_id"));
  const int64_t objects = IMAGED_TRY(conn.query_int("SELECT count(*) FROM sqlite_schema"));
  if ((app_id != 0 && app_id != kApplicationId) || (version == 0 && objects != 0)) {
    return fail(Errc::FailedPrecondition,
                "meta.db is an SQLite database but not an imaged metadata store");
  }
  return {};
}

Status migrate(Connection& conn) {
  // 1. Refuse what we must not touch, before writing anything.
  IMAGED_TRY(check_schema(conn));
  if (IMAGED_TRY(schema_version(conn)) == kSchemaVersion) return {};

  // 2. Apply the missing migrations in one transaction: all of them or none.
  return without_foreign_keys(conn, [&]() -> Status {
    IMAGED_TRY(conn.exec("BEGIN IMMEDIATE"));
    Status st = apply_missing(conn);
    if (st) st = conn.exec("COMMIT");
    if (!st) {
      if (!conn.autocommit()) (void)conn.exec("ROLLBACK");
      return st;
    }
    return {};
  });
}

}  // namespace imaged::metadata
