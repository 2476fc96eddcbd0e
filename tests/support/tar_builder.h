// Builds tar archives in memory with libarchive, for tests: regular files, directories,
// symlinks, hard links, devices, with a chosen header format. Tests only.
#pragma once

#include <archive_entry.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace imaged::testing {

struct TarEntry {
  std::string path;
  std::string data;
  mode_t type = AE_IFREG;  // AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR, AE_IFIFO, ...
  std::string link;        // symlink target, or hard link source when type is AE_IFREG
  int64_t size = -1;       // declared size (default: data.size()); regular files only
};

enum class TarFormat { PaxRestricted, Pax, Ustar, Gnu };

// The archive's bytes (gzip-compressed when `gzip`), the last block not padded to a record.
std::string make_tar(const std::vector<TarEntry>& entries, bool gzip = false,
                     TarFormat format = TarFormat::PaxRestricted);

}  // namespace imaged::testing
