#include "common/metadata/sqlite.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "tests/common/metadata/metadata_test_util.h"

using imaged::Errc;
using imaged::metadata::Connection;
using imaged::metadata::ConnectionOptions;
using imaged::metadata::Statement;
using imaged::metadata::testing::must;
using imaged::metadata::testing::TempDir;

TEST_CASE("sqlite: binds and reads back every column type", "[metadata]") {
  TempDir dir;
  Connection conn = must(Connection::open(dir.path() / "t.db", ConnectionOptions{}));
  must(conn.exec("CREATE TABLE t (i INTEGER, s TEXT, n INTEGER, o TEXT)"));
  {
    Statement st = must(conn.prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4)"));
    st.bind_all(int64_t{-42}, std::string("h\0llo", 5), std::optional<int64_t>(),
                std::optional<std::string>("x"));
    must(st.run());
  }
  Statement st = must(conn.prepare("SELECT i, s, n, o FROM t"));
  REQUIRE(must(st.step()));
  CHECK(st.int64(0) == -42);
  CHECK(st.text(1) == std::string("h\0llo", 5));  // embedded NUL survives
  CHECK(st.is_null(2));
  CHECK(st.opt_int64(2) == std::nullopt);
  CHECK(st.opt_text(3) == std::optional<std::string>("x"));
  CHECK_FALSE(must(st.step()));
}

TEST_CASE("sqlite: cached statements are reset on release and nest safely", "[metadata]") {
  TempDir dir;
  Connection conn = must(Connection::open(dir.path() / "t.db", ConnectionOptions{}));
  must(conn.exec("CREATE TABLE t (i INTEGER); INSERT INTO t VALUES (1), (2), (3)"));
  const char* sql = "SELECT i FROM t WHERE i >= ?1 ORDER BY i";
  {
    Statement outer = must(conn.prepare(sql));
    outer.bind(1, int64_t{2});
    REQUIRE(must(outer.step()));
    CHECK(outer.int64(0) == 2);
    // The same SQL while the cached statement is leased: a private statement, independent.
    Statement inner = must(conn.prepare(sql));
    inner.bind(1, int64_t{1});
    REQUIRE(must(inner.step()));
    CHECK(inner.int64(0) == 1);
    REQUIRE(must(outer.step()));
    CHECK(outer.int64(0) == 3);
  }
  // Released mid-iteration: the next lease starts from the beginning with no old bindings.
  Statement again = must(conn.prepare(sql));
  again.bind(1, int64_t{3});
  REQUIRE(must(again.step()));
  CHECK(again.int64(0) == 3);
  CHECK_FALSE(must(again.step()));
}

TEST_CASE("sqlite: errors map to Errc", "[metadata]") {
  TempDir dir;
  Connection conn = must(Connection::open(dir.path() / "t.db", ConnectionOptions{}));
  must(conn.exec("CREATE TABLE t (k TEXT PRIMARY KEY)"));
  must(conn.exec("INSERT INTO t VALUES ('a')"));

  auto dup = conn.exec("INSERT INTO t VALUES ('a')");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == Errc::Conflict);
  CHECK_THAT(dup.error().message, Catch::Contains("UNIQUE"));

  auto bad = conn.prepare("SELEKT 1");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == Errc::Internal);

  // Binding a parameter that does not exist is reported by step().
  Statement st = must(conn.prepare("SELECT ?1"));
  st.bind(7, int64_t{1});
  auto stepped = st.step();
  REQUIRE_FALSE(stepped);
  CHECK_THAT(stepped.error().message, Catch::Contains("parameter 7"));
}

TEST_CASE("sqlite: a file that is not a database is DataLoss", "[metadata]") {
  TempDir dir;
  const auto path = dir.path() / "junk.db";
  std::ofstream(path) << std::string(4096, 'x');
  auto conn = Connection::open(path, ConnectionOptions{});
  REQUIRE_FALSE(conn);
  CHECK(conn.error().code == Errc::DataLoss);
}

TEST_CASE("sqlite: opening a missing file without create fails", "[metadata]") {
  TempDir dir;
  ConnectionOptions options;
  options.create = false;
  auto conn = Connection::open(dir.path() / "missing.db", options);
  REQUIRE_FALSE(conn);
  CHECK(conn.error().code == Errc::Internal);
}

TEST_CASE("sqlite: query_only connections refuse writes", "[metadata]") {
  TempDir dir;
  {
    Connection rw = must(Connection::open(dir.path() / "t.db", ConnectionOptions{}));
    must(rw.exec("CREATE TABLE t (i INTEGER)"));
  }
  ConnectionOptions options;
  options.query_only = true;
  Connection ro = must(Connection::open(dir.path() / "t.db", options));
  CHECK(must(ro.query_int("SELECT count(*) FROM t")) == 0);
  CHECK_FALSE(ro.exec("INSERT INTO t VALUES (1)"));
}
