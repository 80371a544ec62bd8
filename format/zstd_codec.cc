#include "format/zstd_codec.h"

#include <string>

#include <zstd.h>

namespace sdc {

Status ZstdDecompressExact(std::span<const uint8_t> src, uint64_t raw_size, std::vector<uint8_t>* out) {
  out->assign(static_cast<size_t>(raw_size), 0);
  size_t n = ZSTD_decompress(out->data(), out->size(), src.data(), src.size());
  if (ZSTD_isError(n))
    return Error(StatusCode::kCorrupt, std::string("zstd: ") + ZSTD_getErrorName(n));
  SDC_CHECK(n == raw_size, StatusCode::kCorrupt,
            "zstd: decoded " + std::to_string(n) + " bytes, declared " + std::to_string(raw_size));
  return Status::Ok();
}

std::vector<uint8_t> ZstdCompress(std::span<const uint8_t> src, int level) {
  std::vector<uint8_t> out(ZSTD_compressBound(src.size()));
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);  // sections carry their own XXH64
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
  size_t n = ZSTD_compress2(cctx, out.data(), out.size(), src.data(), src.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) return {};
  out.resize(n);
  return out;
}

}  // namespace sdc
