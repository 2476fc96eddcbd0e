#include "common/images/archive_api.h"

namespace imaged::images {

Result<const ArchiveApi*> archive_api() {
  static const Result<ArchiveApi> api = load_api<ArchiveApi>(
      "libarchive.so.13",
      [](SymbolBinder& b, ArchiveApi& a) { IMAGED_ARCHIVE_API(IMAGED_API_BIND) });
  if (!api) return fail(api.error());
  return &*api;
}

}  // namespace imaged::images
