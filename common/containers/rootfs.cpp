#include "common/containers/rootfs.h"

#include <sys/stat.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "common/content/content.h"
#include "common/images/archive_api.h"

namespace imaged::containers {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";

// libarchive's read callback over a blob.
struct BlobSource {
  content::ReaderAt* reader;
  int64_t offset = 0;
  std::vector<std::byte> buf = std::vector<std::byte>(1 << 20);
  std::optional<Error> error;
};

la_ssize_t read_blob(archive*, void* ctx, const void** out) {
  auto& src = *static_cast<BlobSource*>(ctx);
  auto n = src.reader->read_at(src.buf, src.offset);
  if (!n) {
    src.error = n.error();
    return -1;
  }
  src.offset += static_cast<int64_t>(*n);
  *out = src.buf.data();
  return static_cast<la_ssize_t>(*n);
}

// A tar entry name relative to the root ("a/b"), "" for the root itself; nullopt when a ".."
// component would leave it.
std::optional<std::string> clean_name(std::string_view name) {
  std::string out;
  std::size_t pos = 0;
  while (pos <= name.size()) {
    std::size_t end = name.find('/', pos);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(pos, end - pos);
    pos = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

// True when no existing component of `rel`'s parent directories under `root` is a symlink, so
// that removing `root/rel` cannot touch anything outside the root.
bool parents_are_real(const fs::path& root, std::string_view rel) {
  fs::path at = root;
  std::size_t pos = 0;
  for (std::size_t end; (end = rel.find('/', pos)) != std::string_view::npos; pos = end + 1) {
    at /= rel.substr(pos, end - pos);
    struct stat st {};
    if (::lstat(at.c_str(), &st) != 0) return true;  // nothing below to remove
    if (!S_ISDIR(st.st_mode)) return false;
  }
  return true;
}

std::string join(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : std::string(dir) + "/" + std::string(name);
}

// Applies a whiteout entry `dir/base`. Entries of the current layer (`layer_paths`) survive an
// opaque marker.
Status apply_whiteout(const fs::path& root, std::string_view dir, std::string_view base,
                      const std::unordered_set<std::string>& layer_paths) {
  std::string marker = join(dir, base);
  if (!parents_are_real(root, marker))
    return fail(Errc::InvalidArgument, "whiteout through a symlink: " + marker);
  std::error_code ec;
  if (base != kOpaqueMarker) {
    fs::remove_all(root / join(dir, base.substr(kWhiteoutPrefix.size())), ec);
    return ec ? fail(Errc::Internal, "applying whiteout " + marker + ": " + ec.message())
              : Status{};
  }
  fs::path target = root / std::string(dir);
  if (fs::is_symlink(target, ec) || !fs::is_directory(target, ec)) return {};
  for (const auto& child : fs::directory_iterator(target, ec)) {
    if (layer_paths.contains(join(dir, child.path().filename().string()))) continue;
    fs::remove_all(child.path(), ec);
    if (ec) return fail(Errc::Internal, "applying opaque marker " + marker + ": " + ec.message());
  }
  return {};
}

using ArchivePtr = std::unique_ptr<archive, int (*)(archive*)>;

Status unpack_layer(const images::ArchiveApi& ar, content::ReaderAt& blob, const fs::path& root,
                    const Digest& digest) {
  ArchivePtr in(ar.archive_read_new(), ar.archive_read_free);
  ArchivePtr out(ar.archive_write_disk_new(), ar.archive_write_free);
  if (!in || !out) return fail(Errc::Internal, "libarchive: out of memory");
  ar.archive_read_support_filter_all(in.get());
  ar.archive_read_support_format_tar(in.get());
  ar.archive_write_disk_set_options(
      out.get(), ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK |
                     ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT);
  BlobSource source{&blob};
  std::string what = "layer " + digest.str();
  auto broken = [&](archive* a, std::string_view doing) -> Error {
    if (source.error) return source.error->context(what);
    const char* msg = ar.archive_error_string(a);
    return Error{a == in.get() ? Errc::InvalidArgument : Errc::Internal,
                 what + ": " + std::string(doing) + ": " + (msg ? msg : "unknown error")};
  };
  if (ar.archive_read_open(in.get(), &source, nullptr, &read_blob, nullptr) != ARCHIVE_OK)
    return fail(broken(in.get(), "not a tar archive"));

  const std::string root_prefix = root.string() + "/";
  std::unordered_set<std::string> layer_paths;
  for (;;) {
    archive_entry* entry = nullptr;
    int r = ar.archive_read_next_header(in.get(), &entry);
    if (r == ARCHIVE_EOF) return {};
    if (r < ARCHIVE_WARN) return fail(broken(in.get(), "reading the tar"));
    const char* raw = ar.archive_entry_pathname(entry);
    auto name = clean_name(raw ? raw : "");
    if (!name) return fail(Errc::InvalidArgument, what + ": entry outside the root: " + raw);
    if (name->empty()) continue;
    auto slash = name->rfind('/');
    std::string_view dir =
        slash == std::string::npos ? "" : std::string_view(*name).substr(0, slash);
    std::string_view base =
        slash == std::string::npos ? *name : std::string_view(*name).substr(slash + 1);
    if (base.starts_with(kWhiteoutPrefix)) {
      IMAGED_TRY(apply_whiteout(root, dir, base, layer_paths));
      continue;
    }
    layer_paths.insert(*name);
    ar.archive_entry_set_pathname(entry, (root_prefix + *name).c_str());
    if (const char* link = ar.archive_entry_hardlink(entry)) {
      auto target = clean_name(link);
      if (!target || target->empty())
        return fail(Errc::InvalidArgument, what + ": hard link outside the root: " + link);
      ar.archive_entry_set_hardlink(entry, (root_prefix + *target).c_str());
    }
    if (ar.archive_write_header(out.get(), entry) < ARCHIVE_WARN)
      return fail(broken(out.get(), "extracting " + *name));
    const void* block;
    size_t size;
    la_int64_t offset;
    while ((r = ar.archive_read_data_block(in.get(), &block, &size, &offset)) == ARCHIVE_OK)
      if (ar.archive_write_data_block(out.get(), block, size, offset) < ARCHIVE_WARN)
        return fail(broken(out.get(), "writing " + *name));
    if (r != ARCHIVE_EOF) return fail(broken(in.get(), "reading " + *name));
    if (ar.archive_write_finish_entry(out.get()) < ARCHIVE_WARN)
      return fail(broken(out.get(), "finishing " + *name));
  }
}

}  // namespace

Status unpack_layers(content::Provider& content, const std::vector<Digest>& layers,
                     const fs::path& root) {
  const images::ArchiveApi& ar = *IMAGED_TRY(images::archive_api());
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) return fail(Errc::Internal, "resolving " + root.string() + ": " + ec.message());
  // Open every blob first: a concurrent rmi may unlink them, an open reader keeps the bytes.
  std::vector<std::unique_ptr<content::ReaderAt>> readers;
  for (const auto& digest : layers) readers.push_back(IMAGED_TRY(content.open(digest)));
  for (std::size_t i = 0; i < layers.size(); ++i)
    IMAGED_TRY(unpack_layer(ar, *readers[i], real_root, layers[i]));
  return {};
}

}  // namespace imaged::containers
