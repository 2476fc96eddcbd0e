// Streaming decompression of layer blobs, for the diff_id: gzip through ISA-L's isal_inflate
// (about 4x zlib here, see DESIGN.md "Performance facts"), zstd through libzstd's streaming API,
// or none (bytes pass through).
//
// Gzip: multi-member streams (pigz, concatenated files) are one stream, as Go's gzip.Reader
// reads them; every member's CRC32 and size are checked by ISA-L. Zstd: several frames and
// skippable frames are one stream. Anything after the last member/frame that is not another one
// is an error, as dockerd's decompression reports it.
//
// Not thread-safe: one instance per stream, driven by one thread at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>

#include "common/error.h"
#include "common/oci.h"

namespace imaged::images {

// Receives uncompressed bytes in order.
using OutputFn = std::function<void(std::span<const std::byte>)>;

class Decompressor {
 public:
  virtual ~Decompressor();
  // Decompresses `in`, calling `out` with every uncompressed piece (possibly several times,
  // possibly not at all). InvalidArgument naming the format on corrupt input ("gzip: invalid
  // checksum"); after an error the Decompressor stays failed.
  virtual Status update(std::span<const std::byte> in, const OutputFn& out) = 0;
  // The input is complete: InvalidArgument "gzip: unexpected EOF" when it ended inside a
  // member/frame (or had none at all, for gzip and zstd).
  virtual Status finish() = 0;
  // Starts over at the beginning of a new stream (the download restarted from byte 0).
  virtual void reset() = 0;
};

// A decompressor for `compression`. Internal if the library cannot allocate its state.
Result<std::unique_ptr<Decompressor>> make_decompressor(oci::Compression compression);

}  // namespace imaged::images
