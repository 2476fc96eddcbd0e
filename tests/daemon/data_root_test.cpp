#include "daemon/data_root.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/support/temp_dir.h"

using imaged::testing::TempDir;

TEST_CASE("data root: created 0700 with blobs and ingest", "[daemon]") {
  TempDir dir;
  auto root = dir / "a/b/root";
  REQUIRE(imaged::daemon::prepare_data_root(root));
  struct stat st {};
  REQUIRE(::stat(root.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(std::filesystem::is_directory(root / "blobs"));
  CHECK(std::filesystem::is_directory(root / "ingest"));
}

TEST_CASE("data root: an existing root is tightened to 0700", "[daemon]") {
  TempDir dir;
  auto root = dir / "root";
  std::filesystem::create_directories(root);
  ::chmod(root.c_str(), 0755);
  REQUIRE(imaged::daemon::prepare_data_root(root));
  struct stat st {};
  REQUIRE(::stat(root.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("data root: the engine ID is created once and kept", "[daemon]") {
  TempDir dir;
  auto id = imaged::daemon::load_engine_id(dir.path());
  REQUIRE(id);
  CHECK(id->size() == 36);
  CHECK((*id)[14] == '4');
  CHECK(imaged::daemon::load_engine_id(dir.path()).value() == *id);
}
