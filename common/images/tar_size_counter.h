// TarSizeCounter: a layer's size as dockerd reports it (its DiffSize), from the uncompressed tar
// stream, without unpacking it.
//
// dockerd (overlay2, moby layer/layer_store.go applyTar → overlay2 ApplyDiff) untars the layer
// into a directory and measures it with pkg/directory.Size: the Lstat size of every entry that
// is not a directory, each inode once. Per tar entry that gives:
//   - regular file ('0', '\0'): its size (PAX `size` overrides the header; octal or base-256);
//   - symlink ('2'): the length of its target (PAX `linkpath` / GNU 'K' long link name);
//   - hard link ('1'): 0 — it shares its target's inode, counted once;
//   - whiteouts (base name ".wh.*", the opaque marker included): 0 — overlay2 turns them into
//     0/0 character devices or an xattr;
//   - directories, devices, fifos, PAX global headers: 0.
// A path that appears twice in one layer is replaced (the later entry wins, as untar removes
// the earlier file), unless a hard link still holds the earlier file's inode. Paths are
// normalised like Go's filepath.Clean. Kept per path: a 64-bit hash and an inode index, only
// for files and symlinks with a size (about 65 bytes each while the layer streams: 6.5 MB for
// 100 000 files). Not modelled (rare in image layers, or dockerd refuses them): a directory
// replaced by a non-directory (untar removes the whole subtree), GNU sparse files (type 'S' is
// refused; PAX sparse entries count their stored size), entries outside the root, whiteouts of
// files of the same layer.
//
// Headers: ustar, GNU ('L'/'K' long names) and PAX ('x'; 'g' is skipped), V7; the checksum is
// verified. The end is two zero blocks (or the end of the stream at an entry boundary, as Go's
// archive/tar accepts); bytes after it are ignored.
//
// Not thread-safe: one stream, one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/error.h"

namespace imaged::images {

class TarSizeCounter {
 public:
  // The next bytes of the tar stream. After a malformed header the rest is ignored (finish()
  // reports it).
  void update(std::span<const std::byte> bytes);
  // The unpacked size. InvalidArgument ("tar: ...") when the stream is not a tar this walker
  // understands: a bad checksum or number, an unknown entry type, an oversized PAX/GNU name
  // record, or an end inside a header or an entry's data.
  Result<int64_t> finish() const;
  // Starts over at the beginning of a new stream.
  void reset();

 private:
  enum class State { Header, Special, Skip, End, Failed };

  void fail_with(std::string message);
  void on_header();
  void on_special_done();
  void add_entry(char type, const std::string& name, const std::string& link, int64_t size);
  // Points the path at the inode (nullopt: at nothing with a size), releasing what it held.
  void bind(uint64_t path, std::optional<uint32_t> inode);
  void skip(int64_t bytes);  // then the next header

  State state_ = State::Header;
  std::vector<std::byte> block_;  // the header being assembled (512 bytes)
  int64_t skip_ = 0;              // data + padding bytes still to skip
  bool zero_block_ = false;       // the previous header block was all zeros
  std::string error_;

  // A PAX or GNU long-name record being read, and what earlier records set for the next entry.
  char special_type_ = 0;
  int64_t special_left_ = 0;
  std::string special_;
  std::optional<std::string> next_path_, next_link_;
  std::optional<int64_t> next_size_;

  // Path hash → inode index; inodes' sizes and link counts; the sum of live inodes' sizes.
  struct Inode {
    int64_t size = 0;
    uint32_t links = 0;
  };
  std::unordered_map<uint64_t, uint32_t> paths_;
  std::vector<Inode> inodes_;
  int64_t total_ = 0;
};

}  // namespace imaged::images
