#include "common/content/content.h"

namespace imaged::content {

ReaderAt::~ReaderAt() = default;
Provider::~Provider() = default;
Writer::~Writer() = default;
Ingester::~Ingester() = default;
Manager::~Manager() = default;

Result<std::string> read_blob(Provider& provider, const Digest& digest, size_t max_bytes) {
  auto reader = IMAGED_TRY(provider.open(digest));
  const int64_t size = reader->size();
  if (size < 0 || static_cast<uint64_t>(size) > max_bytes)
    return fail(Errc::ResourceExhausted, "blob " + digest.str() + " is " + std::to_string(size) +
                                             " bytes, more than the limit of " +
                                             std::to_string(max_bytes));
  std::string out(static_cast<size_t>(size), '\0');
  auto buf = std::as_writable_bytes(std::span(out.data(), out.size()));
  size_t done = 0;
  while (done < buf.size()) {
    const size_t n = IMAGED_TRY(reader->read_at(buf.subspan(done), static_cast<int64_t>(done)));
    if (n == 0) return fail(Errc::DataLoss, "blob " + digest.str() + " is shorter than its size");
    done += n;
  }
  // Cheap for the small blobs this is meant for, and it turns silent disk corruption into an
  // error instead of a wrong manifest.
  if (Digest::of(out) != digest)
    return fail(Errc::DataLoss, "blob " + digest.str() + " does not match its digest");
  return out;
}

Status write_blob(Ingester& ingester, const std::string& ref, std::string_view bytes,
                  const Digest& expected) {
  auto writer = IMAGED_TRY(ingester.writer(ref, static_cast<int64_t>(bytes.size())));
  // A leftover partial of a small blob is not worth resuming (and may hold other bytes).
  if (writer->offset() != 0) IMAGED_TRY(writer->truncate_to_zero());
  IMAGED_TRY(writer->write(bytes));
  auto committed = writer->commit(static_cast<int64_t>(bytes.size()), expected);
  if (!committed && committed.error().code != Errc::AlreadyExists) return committed;
  return {};
}

}  // namespace imaged::content
