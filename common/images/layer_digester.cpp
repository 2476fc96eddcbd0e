#include "common/images/layer_digester.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/images/decompressor.h"
#include "common/images/tar_size_counter.h"

namespace imaged::images {

namespace {

// What the uncompressed side yields.
struct DiffResult {
  Digest diff_id;  // meaningless when not hashed
  int64_t size = 0;
  int64_t unpacked_size = 0;
  std::string unpacked_note;
};

// The uncompressed side: decompressor → sha256 (when `hash`) + byte count + tar walk. Runs on
// one thread at a time.
class DiffHasher {
 public:
  DiffHasher(std::unique_ptr<Decompressor> d, bool hash)
      : decompressor_(std::move(d)), hash_(hash) {}

  void feed(std::span<const std::byte> bytes) {
    if (error_ || bytes.empty()) return;  // after an error: drain, the digest decides
    auto st = decompressor_->update(bytes, [this](std::span<const std::byte> out) {
      if (hash_) sha_.update(out);
      size_ += static_cast<int64_t>(out.size());
      tar_.update(out);
    });
    if (!st) error_ = st.error();
  }
  void reset() {
    decompressor_->reset();
    (void)sha_.finish();
    size_ = 0;
    tar_.reset();
    error_.reset();
  }
  // The stream's error, or what it yielded; a tar that cannot be walked is not an error: its
  // unpacked size is then its byte count.
  Result<DiffResult> finish() {
    if (!error_) {
      if (auto st = decompressor_->finish(); !st) error_ = st.error();
    }
    if (error_) return fail(*error_);
    DiffResult out{.diff_id = sha_.finish(), .size = size_, .unpacked_size = size_};
    if (auto unpacked = tar_.finish()) {
      out.unpacked_size = *unpacked;
    } else {
      out.unpacked_note = unpacked.error().message;
    }
    return out;
  }

 private:
  std::unique_ptr<Decompressor> decompressor_;
  bool hash_;
  Sha256 sha_;
  int64_t size_ = 0;
  TarSizeCounter tar_;
  std::optional<Error> error_;
};

// The digests of a blob from its own digest and size and what its uncompressed side yielded.
LayerDigests combine(const Digest& digest, int64_t size, bool compressed, DiffResult diff) {
  if (!compressed && diff.size != size) {  // the walk missed bytes (a resume without replay)
    diff.unpacked_size = size;
    diff.unpacked_note =
        "the tar walk saw " + std::to_string(diff.size) + " of " + std::to_string(size) + " bytes";
  }
  return LayerDigests{.digest = digest,
                      .size = size,
                      .diff_id = compressed ? std::move(diff.diff_id) : digest,
                      .uncompressed_size = compressed ? diff.size : size,
                      .unpacked_size = diff.unpacked_size,
                      .unpacked_note = std::move(diff.unpacked_note)};
}

// What the producer hands to the second thread.
struct Item {
  enum Kind { Data, Reset, End } kind = Data;
  std::vector<std::byte> bytes;
};

}  // namespace

struct LayerDigester::Impl {
  content::Writer& writer;
  LayerDigesterOptions options;
  bool compressed = true;
  DiffHasher diff;

  // Bytes received but not yet handed to the Writer: they go to it (and then to the
  // uncompressed side) a whole chunk at a time, which the Writer writes without copying.
  std::vector<std::byte> pending;

  // Threaded mode.
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Item> queue;                     // guarded by mu
  size_t queued_bytes = 0;                    // guarded by mu
  std::vector<std::vector<std::byte>> spare;  // consumed chunks for reuse; guarded by mu
  std::thread worker;

  Impl(content::Writer& w, LayerDigesterOptions o, bool c, std::unique_ptr<Decompressor> d)
      : writer(w), options(o), compressed(c), diff(std::move(d), c) {}

  bool threaded() const { return compressed && options.threaded; }

  void run_worker() {
    for (;;) {
      Item item;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !queue.empty(); });
        item = std::move(queue.front());
        queue.pop_front();
        queued_bytes -= item.bytes.size();
      }
      cv.notify_all();  // room for the producer
      switch (item.kind) {
        case Item::Data: {
          diff.feed(item.bytes);
          std::lock_guard lock(mu);
          if (spare.size() < 4) spare.push_back(std::move(item.bytes));
          break;
        }
        case Item::Reset:
          diff.reset();
          break;
        case Item::End:
          return;
      }
    }
  }

  void push(Item item) {
    std::unique_lock lock(mu);
    // A single item may exceed the bound (when the bound is tiny); never deadlock on it.
    cv.wait(lock, [&] {
      return queued_bytes == 0 || queued_bytes + item.bytes.size() <= options.queue_bytes;
    });
    queued_bytes += item.bytes.size();
    queue.push_back(std::move(item));
    cv.notify_all();
  }

  // An empty buffer with room for a chunk (a consumed one when there is one).
  std::vector<std::byte> take_buffer() {
    std::vector<std::byte> b;
    {
      std::lock_guard lock(mu);
      if (!spare.empty()) {
        b = std::move(spare.back());
        spare.pop_back();
      }
    }
    b.clear();
    b.reserve(options.chunk_bytes);
    return b;
  }

  // Hands a chunk to the uncompressed side (which keeps or recycles it).
  void feed_chunk(std::vector<std::byte>&& chunk) {
    if (chunk.empty()) return;
    if (!threaded()) return diff.feed(chunk);
    push(Item{Item::Data, std::move(chunk)});
  }

  // Pending bytes to the Writer, then to the uncompressed side.
  Status flush() {
    if (pending.empty()) return {};
    IMAGED_TRY(writer.write(pending));
    if (threaded()) {
      feed_chunk(std::move(pending));
      pending = take_buffer();
    } else {
      feed_chunk(std::move(pending));  // inline: consumed at once, the buffer stays ours
      pending.clear();
    }
    return {};
  }

  // Bytes that only the uncompressed side needs (a replayed partial ingest).
  void feed_copy(std::span<const std::byte> bytes) {
    if (!threaded()) return diff.feed(bytes);
    std::vector<std::byte> chunk = take_buffer();
    chunk.assign(bytes.begin(), bytes.end());
    push(Item{Item::Data, std::move(chunk)});
  }

  void stop_worker() {
    if (!worker.joinable()) return;
    push(Item{Item::End, {}});
    worker.join();
  }
};

LayerDigester::LayerDigester(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

LayerDigester::~LayerDigester() {
  if (impl_) impl_->stop_worker();
}

Result<std::unique_ptr<LayerDigester>> LayerDigester::create(content::Writer& writer,
                                                             oci::Compression compression,
                                                             LayerDigesterOptions options) {
  if (options.chunk_bytes == 0) options.chunk_bytes = 1 << 20;
  auto decompressor = IMAGED_TRY(make_decompressor(compression));
  auto impl = std::make_unique<Impl>(writer, options, compression != oci::Compression::None,
                                     std::move(decompressor));
  impl->pending.reserve(options.chunk_bytes);
  if (impl->threaded()) impl->worker = std::thread([p = impl.get()] { p->run_worker(); });
  return std::unique_ptr<LayerDigester>(new LayerDigester(std::move(impl)));
}

Status LayerDigester::replay(content::ReaderAt& partial) {
  const int64_t length = impl_->writer.offset();
  if (length == 0) return {};
  std::vector<std::byte> buf(impl_->options.chunk_bytes);
  int64_t at = 0;
  while (at < length) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(length - at, buf.size()));
    const size_t n = IMAGED_TRY(partial.read_at(std::span(buf.data(), want), at));
    if (n == 0)
      return fail(Errc::DataLoss, "partial download is shorter (" + std::to_string(at) +
                                      " bytes) than its recorded offset " + std::to_string(length));
    impl_->feed_copy(std::span<const std::byte>(buf.data(), n));
    at += static_cast<int64_t>(n);
  }
  return {};
}

Status LayerDigester::write(std::span<const std::byte> bytes) {
  Impl& d = *impl_;
  while (!bytes.empty()) {
    const size_t n = std::min(d.options.chunk_bytes - d.pending.size(), bytes.size());
    d.pending.insert(d.pending.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    bytes = bytes.subspan(n);
    if (d.pending.size() >= d.options.chunk_bytes) IMAGED_TRY(d.flush());
  }
  return {};
}

Status LayerDigester::flush() { return impl_->flush(); }

int64_t LayerDigester::received() const {
  return impl_->writer.offset() + static_cast<int64_t>(impl_->pending.size());
}

Status LayerDigester::restart() {
  impl_->pending.clear();
  IMAGED_TRY(impl_->writer.truncate_to_zero());
  if (impl_->threaded()) {
    impl_->push(Item{Item::Reset, {}});
  } else {
    impl_->diff.reset();
  }
  return {};
}

Result<LayerDigests> LayerDigester::finish() {
  Impl& d = *impl_;
  IMAGED_TRY(d.flush());
  if (d.threaded() && d.worker.joinable()) {
    d.push(Item{Item::End, {}});
    d.worker.join();
  }
  return combine(d.writer.digest_so_far(), d.writer.offset(), d.compressed,
                 IMAGED_TRY(d.diff.finish()));
}

Result<LayerDigests> digest_committed_layer(content::ReaderAt& blob, const Digest& digest,
                                            oci::Compression compression) {
  const int64_t size = blob.size();
  const bool compressed = compression != oci::Compression::None;
  DiffHasher diff(IMAGED_TRY(make_decompressor(compression)), compressed);
  std::vector<std::byte> buf(1 << 20);
  for (int64_t at = 0; at < size;) {
    const size_t n = IMAGED_TRY(blob.read_at(buf, at));
    if (n == 0) return fail(Errc::DataLoss, "blob " + digest.str() + " is shorter than its size");
    diff.feed(std::span<const std::byte>(buf.data(), n));
    at += static_cast<int64_t>(n);
  }
  return combine(digest, size, compressed, IMAGED_TRY(diff.finish()));
}

}  // namespace imaged::images
