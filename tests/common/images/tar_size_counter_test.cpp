#include "common/images/tar_size_counter.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/tar_builder.h"

using namespace imaged;
using namespace imaged::images;
using imaged::testing::make_tar;
using imaged::testing::TarEntry;
using imaged::testing::TarFormat;

namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// Walks `tar` fed `chunk` bytes at a time.
Result<int64_t> walk(std::string_view tar, size_t chunk = 1 << 20) {
  TarSizeCounter c;
  for (size_t at = 0; at < tar.size(); at += chunk) c.update(bytes(tar.substr(at, chunk)));
  return c.finish();
}

int64_t unpacked(std::string_view tar) {
  auto whole = walk(tar);
  REQUIRE(whole);
  for (size_t chunk : {size_t{1}, size_t{511}, size_t{513}}) {
    INFO("chunk " << chunk);
    CHECK(walk(tar, chunk).value() == *whole);
  }
  return *whole;
}

// One hand-made ustar header block: `size_field` goes into the 12-byte size field as is.
std::string header(const std::string& name, char type, const std::string& size_field) {
  std::string b(512, '\0');
  b.replace(0, name.size(), name);
  b.replace(100, 7, "0000644");
  b.replace(124, size_field.size(), size_field);
  b[156] = type;
  const char magic[8] = {'u', 's', 't', 'a', 'r', '\0', '0', '0'};
  b.replace(257, 8, std::string(magic, 8));
  b.replace(148, 8, "        ");
  unsigned sum = 0;
  for (char c : b) sum += static_cast<unsigned char>(c);
  char chk[8];
  std::snprintf(chk, sizeof chk, "%06o", sum);
  b.replace(148, 7, std::string(chk, 6) + '\0');
  return b;
}

std::string octal(int64_t n) {
  char out[12];
  std::snprintf(out, sizeof out, "%011llo", static_cast<unsigned long long>(n));
  return std::string(out, 11);
}

std::string padded(std::string data) {
  data.resize((data.size() + 511) / 512 * 512, '\0');
  return data;
}

const std::string kEnd(1024, '\0');

}  // namespace

TEST_CASE("tar walk: files and symlink targets count, hard links and the rest do not",
          "[pull][tar]") {
  const std::vector<TarEntry> entries = {
      {.path = "bin/", .type = AE_IFDIR},
      {.path = "bin/busybox", .data = std::string(1000, 'b')},
      {.path = "bin/sh", .type = AE_IFLNK, .link = "busybox"},       // 7
      {.path = "bin/ls", .type = AE_IFLNK, .link = "/bin/busybox"},  // 12
      {.path = "bin/echo", .link = "bin/busybox"},                   // hard link: 0
      {.path = "etc/empty"},
      {.path = "run/fifo", .type = AE_IFIFO},
      {.path = "dev/null", .type = AE_IFCHR},
  };
  for (TarFormat format :
       {TarFormat::PaxRestricted, TarFormat::Pax, TarFormat::Ustar, TarFormat::Gnu}) {
    INFO("format " << static_cast<int>(format));
    CHECK(unpacked(make_tar(entries, false, format)) == 1000 + 7 + 12);
  }
}

TEST_CASE("tar walk: whiteouts count 0", "[pull][tar]") {
  const std::string tar = make_tar({
      {.path = "etc/.wh.passwd"},
      {.path = "var/.wh..wh..opq"},
      {.path = "var/.wh.odd", .data = "whiteouts have no data, this one does"},
      {.path = "var/kept", .data = "12345"},
  });
  CHECK(unpacked(tar) == 5);
}

TEST_CASE("tar walk: PAX and GNU long names and link targets", "[pull][tar]") {
  const std::string dir = "d/" + std::string(200, 'n');  // too long for ustar's prefix + name
  const std::string target = "/" + std::string(149, 't');
  const std::vector<TarEntry> entries = {
      {.path = dir + "/file", .data = std::string(700, 'f')},
      {.path = dir + "/link", .type = AE_IFLNK, .link = target},  // 150
      {.path = dir + "/hard", .link = dir + "/file"},             // 0
  };
  const std::string pax = make_tar(entries, false, TarFormat::Pax);
  CHECK(pax[156] == 'x');
  CHECK(unpacked(pax) == 700 + 150);
  const std::string gnu = make_tar(entries, false, TarFormat::Gnu);
  CHECK(gnu[156] == 'L');
  CHECK(gnu.find("././@LongLink") != std::string::npos);
  CHECK(unpacked(gnu) == 700 + 150);
}

TEST_CASE("tar walk: a path given twice counts once, the later entry wins", "[pull][tar]") {
  CHECK(unpacked(make_tar({
            {.path = "f", .data = std::string(100, 'a')},
            {.path = "./f", .data = std::string(30, 'b')},  // the same path
        })) == 30);
  CHECK(unpacked(make_tar({
            {.path = "f", .data = std::string(100, 'a')},
            {.path = "f", .type = AE_IFDIR},
        })) == 0);
  // A hard link keeps the first file's inode alive: both count.
  CHECK(unpacked(make_tar({
            {.path = "g", .data = std::string(100, 'a')},
            {.path = "h", .link = "g"},
            {.path = "g", .data = std::string(40, 'b')},
        })) == 140);
}

TEST_CASE("tar walk: base-256 sizes and PAX size records", "[pull][tar]") {
  // 9 GiB in base-256 (ustar's octal field stops at 8 GiB); the data is not needed to parse the
  // header: skipping it is arithmetic.
  const int64_t big = int64_t{9} << 30;
  std::string field(12, '\0');
  field[0] = static_cast<char>(0x80);
  for (int i = 0; i < 8; ++i) field[11 - i] = static_cast<char>((big >> (8 * i)) & 0xff);
  TarSizeCounter c;
  c.update(bytes(header("big", '0', field)));
  const std::string zeros(1 << 20, '\0');
  for (int64_t fed = 0; fed < big; fed += static_cast<int64_t>(zeros.size()))
    c.update(bytes(zeros));
  c.update(bytes(kEnd));
  CHECK(c.finish().value() == big);

  // A PAX size record overrides the header's size field, for the count and for the data.
  const std::string pax = header("PaxHeaders/x", 'x', octal(13)) + padded("13 size=2000\n") +
                          header("x", '0', octal(0)) + padded(std::string(2000, 'x')) + kEnd;
  CHECK(unpacked(pax) == 2000);
}

TEST_CASE("tar walk: the end, and what is not a tar", "[pull][tar]") {
  const std::string ok = make_tar({{.path = "a", .data = "abc"}});
  CHECK(unpacked("") == 0);
  CHECK(unpacked(ok + "trailing bytes after the end are ignored") == 3);
  // Go's archive/tar also accepts a stream that ends at an entry boundary without zero blocks.
  CHECK(unpacked(header("a", '0', octal(3)) + padded("abc")) == 3);

  auto error_of = [](std::string_view tar) {
    auto r = walk(tar);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == Errc::InvalidArgument);
    return r.error().message;
  };
  CHECK(error_of("1.0") == "tar: the stream ends inside a header");
  CHECK(error_of(std::string(1024, 'x')) == "tar: invalid header checksum");
  CHECK(error_of(ok.substr(0, 600)) == "tar: the stream ends inside an entry");
  std::string bad_size = header("a", '0', "12x");
  CHECK(error_of(bad_size + kEnd) == "tar: invalid size field");
  CHECK(error_of(header("a", 'S', octal(0)) + kEnd) == "tar: unsupported entry type 'S'");
  CHECK(error_of(header("PaxHeaders/a", 'x', octal(10)) + padded("99 size=1\n") + kEnd) ==
        "tar: malformed PAX record");
  std::string one_zero = std::string(512, '\0') + header("a", '0', octal(0));
  CHECK(error_of(one_zero) == "tar: a zero block followed by a header");

  TarSizeCounter c;
  c.update(bytes("not a tar at all, not at all"));
  c.reset();
  c.update(bytes(ok));
  CHECK(c.finish().value() == 3);
}
