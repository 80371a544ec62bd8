#include "format/zstd_codec.h"

#include <memory>
#include <string>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader and ZSTD_d_stableOutBuffer (exported by libzstd 1.5)
#include <zstd.h>

#include "format/endian.h"
#include "format/limits.h"

namespace sdc {
namespace {

constexpr uint32_t kFrameMagic = 0xFD2FB528;      // RFC 8878 §3.1.1
constexpr uint32_t kSkippableMagic = 0x184D2A50;  // RFC 8878 §3.1.2: 0x184D2A50..0x184D2A5F

Status Corrupt(const std::string& what) { return Error(StatusCode::kCorrupt, "zstd: " + what); }

// Every frame must be a standard frame without a dictionary and with a window of at most 2^27 bytes, or a
// skippable frame, and together they must fill `src` exactly. Checked from the frame headers before any
// decoding, because libzstd would accept legacy frames and, when a frame fits its output at once, any window.
Status CheckFrames(std::span<const uint8_t> src) {
  for (size_t pos = 0; pos < src.size();) {
    const std::span<const uint8_t> rest = src.subspan(pos);
    if (rest.size() < 4) return Corrupt("trailing bytes are not a frame");
    const uint32_t magic = LoadLE32(rest.data());
    if ((magic & 0xFFFFFFF0u) != kSkippableMagic) {
      if (magic != kFrameMagic) return Corrupt("not a zstd frame (legacy frames are not part of the format)");
      ZSTD_frameHeader h;
      const size_t r = ZSTD_getFrameHeader(&h, rest.data(), rest.size());
      if (ZSTD_isError(r)) return Corrupt(std::string("frame header: ") + ZSTD_getErrorName(r));
      if (r != 0) return Corrupt("truncated frame header");
      if (h.dictID != 0) return Corrupt("frame needs a dictionary");
      if (h.windowSize > kZstdMaxWindow)
        return Corrupt("window of " + std::to_string(h.windowSize) + " bytes exceeds 2^27");
    }
    const size_t n = ZSTD_findFrameCompressedSize(rest.data(), rest.size());
    if (ZSTD_isError(n)) return Corrupt(ZSTD_getErrorName(n));
    pos += n;
  }
  return Status::Ok();
}

struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// Decodes all of `src`. With `dst` the output goes there (exactly raw_size bytes, written in place: no
// window buffer); without, it is decoded into a small scratch buffer and dropped, only counted.
Status Decode(std::span<const uint8_t> src, uint64_t raw_size, uint8_t* dst) {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
  if (!dctx) return Error(StatusCode::kLimitExceeded, "zstd: out of memory");
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, 27);
  if (dst) ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_stableOutBuffer, 1);
  std::vector<uint8_t> scratch(dst ? 0 : ZSTD_DStreamOutSize());
  uint8_t none = 0;
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  ZSTD_outBuffer out =
      dst ? ZSTD_outBuffer{dst, static_cast<size_t>(raw_size), 0} : ZSTD_outBuffer{scratch.data(), scratch.size(), 0};
  if (raw_size == 0 && dst) out.dst = &none;
  uint64_t produced = 0;
  for (;;) {
    const size_t in_before = in.pos, out_before = out.pos;
    const size_t r = ZSTD_decompressStream(dctx.get(), &out, &in);
    if (ZSTD_isError(r)) return Corrupt(ZSTD_getErrorName(r));
    const bool progress = in.pos != in_before || out.pos != out_before;
    produced += out.pos - out_before;
    if (produced > raw_size) return Corrupt("more output than the declared " + std::to_string(raw_size) + " bytes");
    if (in.pos == in.size && r == 0) break;  // every frame complete and flushed
    if (!progress) {
      if (dst && out.pos == out.size)
        return Corrupt("more output than the declared " + std::to_string(raw_size) + " bytes");
      return Corrupt("truncated frame");
    }
    if (!dst) out.pos = 0;
  }
  if (produced != raw_size)
    return Corrupt("decoded " + std::to_string(produced) + " bytes, declared " + std::to_string(raw_size));
  return Status::Ok();
}

}  // namespace

Status ZstdDecompressExact(std::span<const uint8_t> src, uint64_t raw_size, std::vector<uint8_t>* out) {
  out->clear();
  if (src.empty()) {
    SDC_CHECK(raw_size == 0, StatusCode::kCorrupt, "zstd: no frame for " + std::to_string(raw_size) + " bytes");
    return Status::Ok();
  }
  SDC_RETURN_IF_ERROR(CheckFrames(src));
  // A frame of 20 bytes may claim gigabytes: unless the stored size vouches for the claim, decode once
  // without keeping the output; only then is raw_size allocated.
  if (!SizeIsVouched(src.size(), raw_size)) SDC_RETURN_IF_ERROR(Decode(src, raw_size, nullptr));
  out->resize(raw_size);
  Status s = Decode(src, raw_size, out->data());
  if (!s.ok()) out->clear();
  return s;
}

}  // namespace sdc
