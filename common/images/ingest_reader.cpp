#include "common/images/ingest_reader.h"

#include <fcntl.h>

#include "common/content/fd.h"
#include "common/digest.h"

namespace imaged::images {

namespace {

class FileReaderAt final : public content::ReaderAt {
 public:
  FileReaderAt(content::UniqueFd fd, int64_t size) : fd_(std::move(fd)), size_(size) {}
  Result<size_t> read_at(std::span<std::byte> buf, int64_t offset) override {
    if (offset < 0) return fail(Errc::InvalidArgument, "negative offset");
    return content::pread_full(fd_.get(), buf, offset);
  }
  int64_t size() const override { return size_; }

 private:
  content::UniqueFd fd_;
  int64_t size_;
};

}  // namespace

Result<std::unique_ptr<content::ReaderAt>> open_ingest_data(const std::filesystem::path& store_root,
                                                            const std::string& ref) {
  const auto path = store_root / "ingest" / std::string(Digest::of(ref).hex()) / "data";
  auto fd = IMAGED_TRY(content::open_at(AT_FDCWD, path.string(), O_RDONLY));
  auto st = IMAGED_TRY(content::fstat_fd(fd.get()));
  return std::unique_ptr<content::ReaderAt>(new FileReaderAt(std::move(fd), st.st_size));
}

}  // namespace imaged::images
