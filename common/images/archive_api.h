// libarchive, opened on first use (see common/dynamic_library.h for why): docker save, docker
// load, docker import and container root filesystems (containers/rootfs.h) are the callers.
//
// archive_api() loads libarchive.so.13 once and resolves the functions save and load call;
// later calls return the same table. Call them as `ar->archive_read_new()`.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/dynamic_library.h"
#include "common/error.h"

namespace imaged::images {

// clang-format off
#define IMAGED_ARCHIVE_API(X)                                                                    \
  X(archive_error_string) X(archive_set_error)                                                   \
  X(archive_read_new) X(archive_read_free) X(archive_read_support_filter_all)                    \
  X(archive_read_support_format_tar) X(archive_read_support_format_raw)                          \
  X(archive_read_open) X(archive_read_next_header)                                               \
  X(archive_read_data) X(archive_read_data_block)                                               \
  X(archive_write_new) X(archive_write_free) X(archive_write_set_format_pax_restricted)          \
  X(archive_write_set_bytes_in_last_block) X(archive_write_open2) X(archive_write_header)        \
  X(archive_write_data) X(archive_write_close)                                                   \
  X(archive_entry_new) X(archive_entry_free) X(archive_entry_pathname) X(archive_entry_hardlink) \
  X(archive_entry_filetype) X(archive_entry_size_is_set) X(archive_entry_size)                   \
  X(archive_entry_set_pathname) X(archive_entry_set_filetype) X(archive_entry_set_perm)          \
  X(archive_entry_set_size) X(archive_entry_set_mtime) X(archive_entry_set_hardlink)            \
  X(archive_write_disk_new) X(archive_write_disk_set_options) X(archive_write_data_block)        \
  X(archive_write_finish_entry)
// clang-format on

struct ArchiveApi {
  IMAGED_ARCHIVE_API(IMAGED_API_MEMBER)
};

// Internal "cannot load libarchive.so.13: ..." when libarchive is not installed (libarchive13).
Result<const ArchiveApi*> archive_api();

// Reads the next bytes of an upload into `buf`; 0 at the end.
using ByteSource = std::function<Result<size_t>(std::span<char> buf)>;

// An upload opened for reading with every filter libarchive has (gzip, bzip2, xz, zstd, …) and
// one format: tar (docker load) or raw, the decompressed bytes as one entry (docker import).
enum class ArchiveFormat { Tar, Raw };

class ArchiveInput {
 public:
  // Internal when libarchive is missing or cannot allocate; error(what_on_failure) when the
  // stream cannot be opened. `source` must outlive the ArchiveInput.
  static Result<std::unique_ptr<ArchiveInput>> open(const ByteSource& source, ArchiveFormat format,
                                                    std::string_view what_on_failure);
  ~ArchiveInput();
  ArchiveInput(const ArchiveInput&) = delete;
  ArchiveInput& operator=(const ArchiveInput&) = delete;

  const ArchiveApi& api() const { return *ar_; }
  archive* get() const { return a_; }
  // Why the last call failed: the source's own error ("reading the upload: …"), else
  // InvalidArgument "<what>: <libarchive's message>".
  Error error(std::string_view what) const;

 private:
  ArchiveInput(const ArchiveApi& ar, archive* a, const ByteSource& source);
  static la_ssize_t read(archive* a, void* self, const void** out);

  const ArchiveApi* ar_;
  archive* a_;
  const ByteSource* source_;
  std::vector<char> buf_ = std::vector<char>(256 * 1024);
  std::optional<Error> source_error_;
};

}  // namespace imaged::images
