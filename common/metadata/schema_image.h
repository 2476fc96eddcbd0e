// The page image of a fresh meta.db: every migration of schema.cpp applied, in WAL mode. It is
// produced at build time by schema_image_gen.cpp, which runs migrate() through the same SQLite,
// so creating a store is one write of these bytes instead of running the migrations' DDL.
#pragma once

#include <cstddef>
#include <span>

namespace imaged::metadata {

// The bytes of the database file (a whole number of pages). Immutable, valid for the process.
std::span<const std::byte> fresh_schema_image();

}  // namespace imaged::metadata
