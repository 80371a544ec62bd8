#include "encoder/enc_zstd.h"

#include <zstd.h>

namespace sdc {

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
