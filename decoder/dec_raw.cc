#include "decoder/dec_raw.h"

#include <algorithm>

#include "decoder/dec_scalar.h"
#include "format/endian.h"
#include "format/float_bits.h"

namespace sdc {

Status ReconstructRaw(std::span<const uint8_t> stored, DType stored_dtype, DType out_dtype, std::span<uint8_t> out) {
  const size_t n = stored.size() / DTypeSize(stored_dtype);
  SDC_CHECK(stored.size() % DTypeSize(stored_dtype) == 0 && out.size() == n * DTypeSize(out_dtype),
            StatusCode::kInternal, "raw: buffer sizes do not match");
  if (stored_dtype == out_dtype) {
    std::copy(stored.begin(), stored.end(), out.begin());
    return Status::Ok();
  }
  SDC_CHECK(stored_dtype == DType::kF16 || stored_dtype == DType::kBF16, StatusCode::kCorrupt,
            "raw: unsupported cast storage");
  const size_t osize = DTypeSize(out_dtype);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h = LoadLE16(stored.data() + 2 * i);
    float v = stored_dtype == DType::kF16 ? HalfToFloat(h) : Bf16ToFloat(h);
    StoreFloatAs(v, out_dtype, out.data() + i * osize);
  }
  return Status::Ok();
}

}  // namespace sdc
