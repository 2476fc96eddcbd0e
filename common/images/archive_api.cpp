#include "common/images/archive_api.h"

#include <cerrno>

namespace imaged::images {

Result<const ArchiveApi*> archive_api() {
  static const Result<ArchiveApi> api = load_api<ArchiveApi>(
      "libarchive.so.13",
      [](SymbolBinder& b, ArchiveApi& a) { IMAGED_ARCHIVE_API(IMAGED_API_BIND) });
  if (!api) return fail(api.error());
  return &*api;
}

ArchiveInput::ArchiveInput(const ArchiveApi& ar, archive* a, const ByteSource& source)
    : ar_(&ar), a_(a), source_(&source) {}

ArchiveInput::~ArchiveInput() { ar_->archive_read_free(a_); }

Result<std::unique_ptr<ArchiveInput>> ArchiveInput::open(const ByteSource& source,
                                                         ArchiveFormat format,
                                                         std::string_view what_on_failure) {
  const ArchiveApi& ar = *IMAGED_TRY(archive_api());
  archive* a = ar.archive_read_new();
  if (!a) return fail(Errc::Internal, "archive_read_new failed");
  std::unique_ptr<ArchiveInput> in(new ArchiveInput(ar, a, source));
  ar.archive_read_support_filter_all(a);
  if (format == ArchiveFormat::Tar) {
    ar.archive_read_support_format_tar(a);
  } else {
    ar.archive_read_support_format_raw(a);
  }
  if (ar.archive_read_open(a, in.get(), nullptr, &ArchiveInput::read, nullptr) != ARCHIVE_OK)
    return fail(in->error(what_on_failure));
  return in;
}

Error ArchiveInput::error(std::string_view what) const {
  if (source_error_) return source_error_->context("reading the upload");
  const char* msg = ar_->archive_error_string(a_);
  return Error{Errc::InvalidArgument, std::string(what) + ": " + (msg ? msg : "unknown error")};
}

la_ssize_t ArchiveInput::read(archive* a, void* self, const void** out) {
  auto* in = static_cast<ArchiveInput*>(self);
  auto n = (*in->source_)(std::span(in->buf_.data(), in->buf_.size()));
  if (!n) {
    in->source_error_ = n.error();
    in->ar_->archive_set_error(a, EIO, "%s", n.error().message.c_str());
    return -1;
  }
  *out = in->buf_.data();
  return static_cast<la_ssize_t>(*n);
}

}  // namespace imaged::images
