// The schema of meta.db: its version (PRAGMA user_version) and the ordered migrations that
// produce it. Everything about the schema lives in schema.cpp; nothing else issues DDL.
//
// Thread safety: migrate() runs on one connection, before the store hands out any other.
#pragma once

#include "common/error.h"
#include "common/metadata/sqlite.h"

namespace imaged::metadata {

// The version this build writes and understands.
inline constexpr int kSchemaVersion = 4;
// PRAGMA application_id of meta.db ("IMGD"), so that a foreign SQLite file is recognised.
inline constexpr int kApplicationId = 0x494d4744;

// Reads PRAGMA user_version.
Result<int> schema_version(Connection& conn);

// Reads without writing: Errc::FailedPrecondition when the database is newer than
// kSchemaVersion (a downgrade) or is not an imaged database.
Status check_schema(Connection& conn);

// Brings the database to kSchemaVersion in one IMMEDIATE transaction: a fresh (empty) database
// gets every migration, an older one the missing ones; on failure nothing is changed.
// check_schema()'s errors; Unavailable when another process holds the write lock past the busy
// timeout; DataLoss when a migration leaves a foreign-key violation.
Status migrate(Connection& conn);

}  // namespace imaged::metadata
