#include "common/images/layer_digester.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/images/decompressor.h"

namespace imaged::images {

namespace {

// The uncompressed side: decompressor → sha256 + byte count. Runs on one thread at a time.
class DiffHasher {
 public:
  explicit DiffHasher(std::unique_ptr<Decompressor> d) : decompressor_(std::move(d)) {}

  void feed(std::span<const std::byte> bytes) {
    if (error_ || bytes.empty()) return;  // after an error: drain, the digest decides
    auto st = decompressor_->update(bytes, [this](std::span<const std::byte> out) {
      sha_.update(out);
      size_ += static_cast<int64_t>(out.size());
    });
    if (!st) error_ = st.error();
  }
  void reset() {
    decompressor_->reset();
    (void)sha_.finish();
    size_ = 0;
    error_.reset();
  }
  // The diff_id and size, or the stream's error.
  Result<std::pair<Digest, int64_t>> finish() {
    if (!error_) {
      if (auto st = decompressor_->finish(); !st) error_ = st.error();
    }
    if (error_) return fail(*error_);
    return std::pair{sha_.finish(), size_};
  }

 private:
  std::unique_ptr<Decompressor> decompressor_;
  Sha256 sha_;
  int64_t size_ = 0;
  std::optional<Error> error_;
};

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
      : writer(w), options(o), compressed(c), diff(std::move(d)) {}

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
    if (!compressed || chunk.empty()) return;
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
    if (!compressed) return;
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
  if (!impl_->compressed || length == 0) return {};
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
  LayerDigests out{.digest = d.writer.digest_so_far(),
                   .size = d.writer.offset(),
                   .diff_id = d.writer.digest_so_far(),
                   .uncompressed_size = d.writer.offset()};
  if (d.compressed) {
    auto [diff_id, size] = IMAGED_TRY(d.diff.finish());
    out.diff_id = std::move(diff_id);
    out.uncompressed_size = size;
  }
  return out;
}

Result<LayerDigests> digest_committed_layer(content::ReaderAt& blob, const Digest& digest,
                                            oci::Compression compression) {
  const int64_t size = blob.size();
  if (compression == oci::Compression::None)
    return LayerDigests{
        .digest = digest, .size = size, .diff_id = digest, .uncompressed_size = size};
  DiffHasher diff(IMAGED_TRY(make_decompressor(compression)));
  std::vector<std::byte> buf(1 << 20);
  for (int64_t at = 0; at < size;) {
    const size_t n = IMAGED_TRY(blob.read_at(buf, at));
    if (n == 0) return fail(Errc::DataLoss, "blob " + digest.str() + " is shorter than its size");
    diff.feed(std::span<const std::byte>(buf.data(), n));
    at += static_cast<int64_t>(n);
  }
  auto [diff_id, usize] = IMAGED_TRY(diff.finish());
  return LayerDigests{
      .digest = digest, .size = size, .diff_id = diff_id, .uncompressed_size = usize};
}

}  // namespace imaged::images
