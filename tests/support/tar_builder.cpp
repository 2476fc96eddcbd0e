#include "tests/support/tar_builder.h"

#include <archive.h>

namespace imaged::testing {

std::string make_tar(const std::vector<TarEntry>& entries, bool gzip, TarFormat format) {
  std::string out;
  archive* a = archive_write_new();
  switch (format) {
    case TarFormat::PaxRestricted:
      archive_write_set_format_pax_restricted(a);
      break;
    case TarFormat::Pax:
      archive_write_set_format_pax(a);
      break;
    case TarFormat::Ustar:
      archive_write_set_format_ustar(a);
      break;
    case TarFormat::Gnu:
      archive_write_set_format_gnutar(a);
      break;
  }
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open2(
      a, &out, nullptr,
      [](archive*, void* o, const void* b, size_t n) -> la_ssize_t {
        static_cast<std::string*>(o)->append(static_cast<const char*>(b), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr, nullptr);
  for (const auto& e : entries) {
    archive_entry* ae = archive_entry_new();
    archive_entry_set_pathname(ae, e.path.c_str());
    archive_entry_set_filetype(ae, e.type);
    archive_entry_set_perm(ae, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(ae, e.link.c_str());
    if (!e.link.empty() && e.type == AE_IFREG) archive_entry_set_hardlink(ae, e.link.c_str());
    archive_entry_set_size(ae, e.type == AE_IFREG && e.link.empty()
                                   ? (e.size >= 0 ? e.size : static_cast<int64_t>(e.data.size()))
                                   : 0);
    archive_write_header(a, ae);
    if (e.type == AE_IFREG && !e.data.empty()) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(ae);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

}  // namespace imaged::testing
