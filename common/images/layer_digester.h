// LayerDigester: streams a layer blob's compressed bytes once and derives everything a pull needs
// to know about it: the bytes go to the content Writer (which keeps the compressed sha256 and the
// size), and through a Decompressor to a second sha256 (the diff_id), a byte count (the
// uncompressed size) and a TarSizeCounter (the unpacked size dockerd reports). Uncompressed
// layers skip the second hash (their diff_id is their digest) but are still walked, inline.
//
// Threaded mode (the default; ~20 % faster on a big layer here): decompression and diff hashing
// run on a second thread fed by a bounded queue, so that receiving + sha256 of the compressed
// stream and inflate + sha256 of the tar overlap on two cores. The queue holds at most
// `queue_bytes`; write() blocks while it is full (backpressure to the network).
//
// Resume: a Writer reopened on a partial ingest already has offset() bytes (and their hash). The
// decompressor's state cannot be stored, so replay() re-reads those bytes from disk through it
// before new bytes arrive. restart() follows a server that ignored Range: ingest and both hash
// states start again from zero.
//
// Not thread-safe: one thread drives a digester (and its Writer). The Writer must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/content/content.h"
#include "common/digest.h"
#include "common/error.h"
#include "common/oci.h"

namespace imaged::images {

struct LayerDigests {
  Digest digest;  // sha256 of the compressed bytes
  int64_t size = 0;
  Digest diff_id;  // sha256 of the uncompressed bytes
  int64_t uncompressed_size = 0;
  // dockerd's DiffSize (tar_size_counter.h); uncompressed_size when the tar cannot be walked,
  // with the reason in unpacked_note (empty when exact).
  int64_t unpacked_size = 0;
  std::string unpacked_note;
};

struct LayerDigesterOptions {
  bool threaded = true;
  size_t queue_bytes = 8 << 20;  // bytes waiting for the second thread, at most
  // Bytes handed to the Writer and the second thread at a time. 1 MiB: LocalStore's Writer
  // writes chunks that large without copying them, and the chunk then moves to the other thread.
  size_t chunk_bytes = 1 << 20;
};

class LayerDigester {
 public:
  // Internal when the decompressor cannot be set up.
  static Result<std::unique_ptr<LayerDigester>> create(content::Writer& writer,
                                                       oci::Compression compression,
                                                       LayerDigesterOptions options = {});
  ~LayerDigester();
  LayerDigester(const LayerDigester&) = delete;
  LayerDigester& operator=(const LayerDigester&) = delete;

  // Feeds bytes [0, writer.offset()) of the ingest, read through `partial`, to the decompressor
  // only. Call before the first write(). Internal/DataLoss when `partial` is shorter than that.
  Status replay(content::ReaderAt& partial);
  // Appends to the ingest and feeds the decompressor, a chunk at a time (up to chunk_bytes stay
  // buffered here: flush() before closing the Writer to keep them in a partial ingest). Errors
  // are the Writer's; a corrupt stream is not an error here (the download goes on so that the
  // blob's digest decides): finish() reports it.
  Status write(std::span<const std::byte> bytes);
  // Hands the buffered bytes to the Writer (and the decompressor).
  Status flush();
  // Bytes of the blob received so far, buffered ones included (resumed bytes too).
  int64_t received() const;
  // Discards everything: Writer::truncate_to_zero() and fresh hash/decompressor state.
  Status restart();
  // Waits for the second thread and returns the digests. The decompressor's error (corrupt or
  // truncated stream: InvalidArgument "gzip: ...") is returned as is. The Writer is left open
  // (the caller verifies and commits or closes it).
  Result<LayerDigests> finish();

 private:
  struct Impl;
  explicit LayerDigester(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The digests of a committed blob `digest`, read through `blob` (for layers that need no
// download but whose diff_id is not known yet). Uncompressed blobs are read too (for the
// unpacked size); their diff_id is their digest. Errors of the decompressor (InvalidArgument) or
// of the reader.
Result<LayerDigests> digest_committed_layer(content::ReaderAt& blob, const Digest& digest,
                                            oci::Compression compression);

}  // namespace imaged::images
