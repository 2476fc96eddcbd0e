#include "common/images/decompressor.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <optional>
#include <string>
#include <vector>

namespace imaged::images {

Decompressor::~Decompressor() = default;

namespace {

// Output buffer size: large enough that the hashing downstream gets big pieces.
constexpr size_t kOutBuffer = 256 * 1024;

std::string isal_error_text(int ret) {
  switch (ret) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "invalid checksum";
    case ISAL_NEED_DICT:
      return "stream needs a dictionary";
    default:
      return "inflate error " + std::to_string(ret);
  }
}

class GzipDecompressor final : public Decompressor {
 public:
  GzipDecompressor() : state_(std::make_unique<inflate_state>()), out_(kOutBuffer) {
    isal_inflate_init(state_.get());
  }

  Status update(std::span<const std::byte> in, const OutputFn& out) override {
    if (error_) return fail(*error_);
    inflate_state* st = state_.get();
    st->next_in = reinterpret_cast<uint8_t*>(const_cast<std::byte*>(in.data()));
    st->avail_in = static_cast<uint32_t>(in.size());
    while (st->avail_in > 0) {
      if (!in_member_) {
        // A new member (the first one, or one concatenated after the previous member).
        isal_inflate_reset(st);
        st->crc_flag = ISAL_GZIP;
        in_member_ = true;
      }
      for (;;) {
        st->next_out = reinterpret_cast<uint8_t*>(out_.data());
        st->avail_out = static_cast<uint32_t>(out_.size());
        const int ret = isal_inflate(st);
        const size_t produced = out_.size() - st->avail_out;
        if (produced > 0) out(std::span<const std::byte>(out_.data(), produced));
        if (ret < 0) {
          error_ = Error{Errc::InvalidArgument, "gzip: " + isal_error_text(ret)};
          return fail(*error_);
        }
        if (st->block_state == ISAL_BLOCK_FINISH) {
          // Member complete (trailer CRC and size checked); what follows is another member.
          in_member_ = false;
          members_ += 1;
          break;
        }
        // Keep going while input remains or the output buffer was filled (more may be pending).
        if (st->avail_in == 0 && st->avail_out != 0) break;
      }
    }
    return {};
  }

  Status finish() override {
    if (error_) return fail(*error_);
    if (in_member_ || members_ == 0) {
      error_ = Error{Errc::InvalidArgument, "gzip: unexpected EOF"};
      return fail(*error_);
    }
    return {};
  }

  void reset() override {
    isal_inflate_init(state_.get());
    in_member_ = false;
    members_ = 0;
    error_.reset();
  }

 private:
  std::unique_ptr<inflate_state> state_;  // ~100 KiB: on the heap
  std::vector<std::byte> out_;
  bool in_member_ = false;
  int64_t members_ = 0;
  std::optional<Error> error_;
};

struct ZstdDCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

class ZstdDecompressor final : public Decompressor {
 public:
  explicit ZstdDecompressor(ZSTD_DCtx* ctx) : ctx_(ctx), out_(ZSTD_DStreamOutSize()) {}

  Status update(std::span<const std::byte> in, const OutputFn& out) override {
    if (error_) return fail(*error_);
    if (in.empty()) return {};
    ZSTD_inBuffer ib{in.data(), in.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      const size_t ret = ZSTD_decompressStream(ctx_.get(), &ob, &ib);
      if (ob.pos > 0) out(std::span<const std::byte>(out_.data(), ob.pos));
      if (ZSTD_isError(ret)) {
        error_ = Error{Errc::InvalidArgument, std::string("zstd: ") + ZSTD_getErrorName(ret)};
        return fail(*error_);
      }
      seen_input_ = true;
      // 0: a frame is complete and flushed; anything else: more input is needed.
      frame_done_ = ret == 0;
      if (ib.pos == ib.size && ob.pos < ob.size) break;
    }
    return {};
  }

  Status finish() override {
    if (error_) return fail(*error_);
    if (!seen_input_ || !frame_done_) {
      error_ = Error{Errc::InvalidArgument, "zstd: unexpected EOF"};
      return fail(*error_);
    }
    return {};
  }

  void reset() override {
    ZSTD_DCtx_reset(ctx_.get(), ZSTD_reset_session_only);
    seen_input_ = false;
    frame_done_ = false;
    error_.reset();
  }

 private:
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxDeleter> ctx_;
  std::vector<std::byte> out_;
  bool seen_input_ = false;
  bool frame_done_ = false;
  std::optional<Error> error_;
};

class Passthrough final : public Decompressor {
 public:
  Status update(std::span<const std::byte> in, const OutputFn& out) override {
    if (!in.empty()) out(in);
    return {};
  }
  Status finish() override { return {}; }
  void reset() override {}
};

}  // namespace

Result<std::unique_ptr<Decompressor>> make_decompressor(oci::Compression compression) {
  switch (compression) {
    case oci::Compression::Gzip:
      return std::make_unique<GzipDecompressor>();
    case oci::Compression::Zstd: {
      ZSTD_DCtx* ctx = ZSTD_createDCtx();
      if (ctx == nullptr)
        return fail(Errc::Internal, "zstd: cannot allocate a decompression context");
      return std::make_unique<ZstdDecompressor>(ctx);
    }
    case oci::Compression::None:
      return std::make_unique<Passthrough>();
  }
  return fail(Errc::Internal, "unknown compression");
}

}  // namespace imaged::images
