#include "common/images/layer_digester.h"

#include <catch2/catch.hpp>
#include <string>

#include "common/content/local_store.h"
#include "common/images/ingest_reader.h"
#include "tests/support/compress.h"
#include "tests/support/tar_builder.h"
#include "tests/support/temp_dir.h"

using namespace imaged;
using namespace imaged::images;
using imaged::testing::gzip;

namespace {

std::string tar_like(size_t n) {
  std::string s;
  uint64_t x = 88172645463325252ull;
  while (s.size() < n) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    s += (x & 3) ? static_cast<char>('a' + x % 26) : static_cast<char>(x >> 24);
  }
  return s;
}

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct Store {
  testing::TempDir dir{"imaged-digester"};
  std::unique_ptr<content::LocalStore> store =
      content::LocalStore::open(dir.path(), {.sync = false}).value();
};

}  // namespace

TEST_CASE("the digester yields digest, size, diff_id and uncompressed size", "[pull][digester]") {
  const std::string tar = tar_like(3 << 20);
  const std::string gz = gzip(tar);
  Store s;
  for (bool threaded : {true, false}) {
    auto w = s.store->writer(threaded ? "t" : "i", -1).value();
    auto d = LayerDigester::create(
                 *w, oci::Compression::Gzip,
                 {.threaded = threaded, .queue_bytes = 1 << 20, .chunk_bytes = 64 << 10})
                 .value();
    for (size_t at = 0; at < gz.size(); at += 10000)
      REQUIRE(d->write(bytes(std::string_view(gz).substr(at, 10000))));
    auto r = d->finish();
    REQUIRE(r);
    CHECK(r->digest == Digest::of(gz));
    CHECK(r->size == static_cast<int64_t>(gz.size()));
    CHECK(r->diff_id == Digest::of(tar));
    CHECK(r->uncompressed_size == static_cast<int64_t>(tar.size()));
    // Not a tar: the unpacked size falls back to the uncompressed size, with the reason.
    CHECK(r->unpacked_size == r->uncompressed_size);
    CHECK(r->unpacked_note.starts_with("tar: "));
    w->close();
  }
}

namespace {

// A layer tar: busybox-like, 3 MiB of file + 3 symlinks of 7 bytes.
std::string layer_tar() {
  return testing::make_tar({{.path = "bin/", .type = AE_IFDIR},
                            {.path = "bin/busybox", .data = tar_like(3 << 20)},
                            {.path = "bin/sh", .type = AE_IFLNK, .link = "busybox"},
                            {.path = "bin/ls", .type = AE_IFLNK, .link = "busybox"},
                            {.path = "bin/echo", .type = AE_IFLNK, .link = "busybox"}});
}
constexpr int64_t kLayerUnpacked = (3 << 20) + 3 * 7;

}  // namespace

TEST_CASE("the digester walks the layer's tar for its unpacked size", "[pull][digester]") {
  const std::string tar = layer_tar();
  const std::string gz = gzip(tar);
  Store s;
  struct Case {
    oci::Compression compression;
    bool threaded;
  };
  for (Case c : {Case{oci::Compression::Gzip, true}, Case{oci::Compression::Gzip, false},
                 Case{oci::Compression::None, true}}) {
    const std::string& blob = c.compression == oci::Compression::None ? tar : gz;
    auto w = s.store->writer("u", -1).value();
    auto d =
        LayerDigester::create(*w, c.compression, {.threaded = c.threaded, .chunk_bytes = 64 << 10})
            .value();
    for (size_t at = 0; at < blob.size(); at += 10000)
      REQUIRE(d->write(bytes(std::string_view(blob).substr(at, 10000))));
    auto r = d->finish().value();
    CHECK(r.diff_id == Digest::of(tar));
    CHECK(r.uncompressed_size == static_cast<int64_t>(tar.size()));
    CHECK(r.unpacked_size == kLayerUnpacked);
    CHECK(r.unpacked_note.empty());
    w->close();
    REQUIRE(s.store->abort("u"));
  }
}

TEST_CASE("committed layers are walked too, uncompressed ones included", "[pull][digester]") {
  const std::string tar = layer_tar();
  Store s;
  for (auto compression : {oci::Compression::Gzip, oci::Compression::None}) {
    const std::string blob = compression == oci::Compression::None ? tar : gzip(tar);
    const Digest digest = Digest::of(blob);
    REQUIRE(content::write_blob(*s.store, "c", blob, digest));
    auto reader = s.store->open(digest).value();
    auto r = digest_committed_layer(*reader, digest, compression).value();
    CHECK(r.diff_id == Digest::of(tar));
    CHECK(r.unpacked_size == kLayerUnpacked);
  }
}

TEST_CASE("an uncompressed layer's diff_id is its digest", "[pull][digester]") {
  Store s;
  auto w = s.store->writer("plain", -1).value();
  auto d = LayerDigester::create(*w, oci::Compression::None).value();
  REQUIRE(d->write(bytes("tar bytes")));
  auto r = d->finish().value();
  CHECK(r.diff_id == Digest::of("tar bytes"));
  CHECK(r.uncompressed_size == 9);
}

TEST_CASE("a resumed ingest rebuilds the diff_id from the bytes on disk", "[pull][digester]") {
  const std::string tar = tar_like(2 << 20);
  const std::string gz = gzip(tar);
  const size_t half = gz.size() / 2;
  Store s;
  {
    auto w = s.store->writer("layer-x", static_cast<int64_t>(gz.size())).value();
    auto d = LayerDigester::create(*w, oci::Compression::Gzip).value();
    REQUIRE(d->write(bytes(std::string_view(gz).substr(0, half))));
    REQUIRE(d->flush());  // as the puller does before closing an interrupted download
    d.reset();
    w->close();
  }
  auto w = s.store->writer("layer-x", static_cast<int64_t>(gz.size())).value();
  REQUIRE(w->offset() == static_cast<int64_t>(half));
  auto d = LayerDigester::create(*w, oci::Compression::Gzip).value();
  auto partial = open_ingest_data(s.dir.path(), "layer-x");
  REQUIRE(partial);
  REQUIRE(d->replay(**partial));
  REQUIRE(d->write(bytes(std::string_view(gz).substr(half))));
  auto r = d->finish().value();
  CHECK(r.digest == Digest::of(gz));
  CHECK(r.diff_id == Digest::of(tar));
  CHECK(r.uncompressed_size == static_cast<int64_t>(tar.size()));
}

TEST_CASE("a resumed uncompressed ingest is walked from the bytes on disk", "[pull][digester]") {
  const std::string tar = layer_tar();
  const size_t half = tar.size() / 2 + 100;  // inside the file's data
  Store s;
  {
    auto w = s.store->writer("layer-p", static_cast<int64_t>(tar.size())).value();
    auto d = LayerDigester::create(*w, oci::Compression::None).value();
    REQUIRE(d->write(bytes(std::string_view(tar).substr(0, half))));
    REQUIRE(d->flush());
    d.reset();
    w->close();
  }
  auto w = s.store->writer("layer-p", static_cast<int64_t>(tar.size())).value();
  auto d = LayerDigester::create(*w, oci::Compression::None).value();
  auto partial = open_ingest_data(s.dir.path(), "layer-p");
  REQUIRE(partial);
  REQUIRE(d->replay(**partial));
  REQUIRE(d->write(bytes(std::string_view(tar).substr(half))));
  auto r = d->finish().value();
  CHECK(r.diff_id == Digest::of(tar));
  CHECK(r.unpacked_size == kLayerUnpacked);
  CHECK(r.unpacked_note.empty());
}

TEST_CASE("restart discards what was received", "[pull][digester]") {
  const std::string tar = tar_like(1 << 20);
  const std::string gz = gzip(tar);
  Store s;
  auto w = s.store->writer("r", -1).value();
  auto d = LayerDigester::create(*w, oci::Compression::Gzip).value();
  REQUIRE(d->write(bytes(std::string_view(gz).substr(0, 5000))));
  REQUIRE(d->restart());
  REQUIRE(d->write(bytes(gz)));
  auto r = d->finish().value();
  CHECK(r.digest == Digest::of(gz));
  CHECK(r.diff_id == Digest::of(tar));
}

TEST_CASE("a corrupt stream keeps receiving and fails at finish", "[pull][digester]") {
  std::string gz = gzip(tar_like(1 << 20));
  gz[gz.size() / 3] ^= 0x5a;
  Store s;
  auto w = s.store->writer("c", -1).value();
  auto d = LayerDigester::create(*w, oci::Compression::Gzip).value();
  REQUIRE(d->write(bytes(gz)));
  CHECK(d->received() == static_cast<int64_t>(gz.size()));
  auto r = d->finish();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("gzip: "));
  CHECK(w->offset() == static_cast<int64_t>(gz.size()));
  CHECK(w->digest_so_far() == Digest::of(gz));
}
