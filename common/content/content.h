// The content store's role interfaces (after containerd's core/content): bytes by digest,
// ingest → verify → atomic commit. Callers take the narrowest role they need:
//   ReaderAt  random access to one committed blob
//   Provider  open / info of committed blobs
//   Writer    one in-progress ingest (resumable)
//   Ingester  opens or resumes Writers by ref
//   Manager   remove / walk blobs, list / abort ingests
//   Store     all of the above
// The store knows nothing of images: a blob is bytes plus their sha256.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/digest.h"
#include "common/error.h"

namespace imaged::content {

using Clock = std::chrono::system_clock;

// A committed blob.
struct Info {
  Digest digest;
  int64_t size = 0;
  Clock::time_point committed_at;
};

// An ingest in progress (or left behind by a closed Writer or a crash).
struct IngestStatus {
  std::string ref;
  int64_t offset = 0;  // bytes on disk so far
  int64_t total = -1;  // the expected total given to Ingester::writer, -1 if unknown
  Clock::time_point started_at;
  Clock::time_point updated_at;
};

// Random access to one committed blob. Not required to be thread-safe unless an implementation
// says so (LocalStore's readers are: pread has no shared cursor).
class ReaderAt {
 public:
  virtual ~ReaderAt();
  // Reads up to buf.size() bytes at `offset`; fewer only at the end of the blob, 0 at or past
  // it. InvalidArgument for a negative offset; Internal on I/O errors.
  virtual Result<size_t> read_at(std::span<std::byte> buf, int64_t offset) = 0;
  virtual int64_t size() const = 0;
};

class Provider {
 public:
  virtual ~Provider();
  // NotFound if the blob is not committed.
  virtual Result<std::unique_ptr<ReaderAt>> open(const Digest& digest) = 0;
  // NotFound if the blob is not committed.
  virtual Result<Info> info(const Digest& digest) = 0;
};

// One ingest, identified by its ref. Not thread-safe: one thread drives a Writer at a time.
// Implementations close() in their destructor. After commit() or close(), every call except
// offset() and digest_so_far() returns FailedPrecondition.
class Writer {
 public:
  virtual ~Writer();

  // Appends bytes. The bytes may be buffered in memory until commit()/close(), so offset() and
  // digest_so_far() count them at once. FailedPrecondition if the write would go past a known
  // expected total (nothing is written then). ResourceExhausted (disk full) or Internal on I/O
  // errors; the Writer is then broken (only close() is useful) and the ingest on disk keeps a
  // prefix of the bytes, which a later resume re-hashes.
  virtual Status write(std::span<const std::byte> bytes) = 0;
  Status write(std::string_view bytes) {
    return write(std::as_bytes(std::span(bytes.data(), bytes.size())));
  }
  // Bytes written so far, including those found on disk when the ingest was resumed.
  virtual int64_t offset() const = 0;
  // sha256 of bytes [0, offset()); the hash state is kept incrementally, so this is cheap.
  virtual Digest digest_so_far() = 0;
  // Discards everything written (e.g. the server ignored our Range request) and starts at 0.
  virtual Status truncate_to_zero() = 0;
  // Verifies the size (when expected_size >= 0) and the digest, then commits atomically.
  //   FailedPrecondition  size or digest mismatch; the ingest is discarded.
  //   AlreadyExists       the blob was already committed; the ingest is discarded. Callers that
  //                       only need the blob to exist treat this as success.
  //   other codes         I/O failure; the ingest stays on disk as close() would leave it.
  // Always closes the Writer.
  virtual Status commit(int64_t expected_size, const Digest& expected) = 0;
  // Closes and keeps the partial ingest on disk for a later resume. Idempotent.
  virtual void close() = 0;
};

class Ingester {
 public:
  virtual ~Ingester();
  // Opens the ingest for `ref` (e.g. "layer-sha256:…"), or resumes the one left on disk: its
  // bytes are re-hashed so that digest_so_far() is right, and offset() says where to continue.
  // `expected_total` is the blob's size if known, else -1; resuming an ingest whose recorded
  // total differs restarts it from zero.
  //   InvalidArgument  empty ref
  //   Unavailable      another Writer (in this process or another) holds the ref
  virtual Result<std::unique_ptr<Writer>> writer(const std::string& ref,
                                                 int64_t expected_total) = 0;
};

class Manager {
 public:
  virtual ~Manager();
  // Deletes a committed blob. NotFound if absent. Readers already open keep working.
  virtual Status remove(const Digest& digest) = 0;
  // Calls `fn` once per committed blob, in no particular order. Blobs committed or removed
  // concurrently may or may not be seen. `fn` may call back into the store.
  virtual Status walk(const std::function<void(const Info&)>& fn) = 0;
  // The ingests on disk, including ones held by open Writers.
  virtual Result<std::vector<IngestStatus>> ingests() = 0;
  // Deletes the ingest for `ref`. NotFound if there is none; Unavailable if a Writer holds it
  // (close the Writer first).
  virtual Status abort(const std::string& ref) = 0;
};

class Store : public Provider, public Ingester, public Manager {};

// Reads a whole blob into memory (manifests, indexes, configs) and checks its digest.
//   NotFound           not committed
//   ResourceExhausted  the blob is larger than max_bytes (nothing is read)
//   DataLoss           the bytes on disk no longer hash to the digest
Result<std::string> read_blob(Provider& provider, const Digest& digest, size_t max_bytes);

// Writes a small blob in one go under `ref` and commits it; a blob already committed counts as
// success. A partial ingest left under `ref` is discarded first.
//   FailedPrecondition  `bytes` do not hash to `expected`
//   Unavailable         a Writer holds `ref`
Status write_blob(Ingester& ingester, const std::string& ref, std::string_view bytes,
                  const Digest& expected);

}  // namespace imaged::content
