#include "encoder/enc_input.h"

#include <cmath>

#include "format/endian.h"
#include "format/float_bits.h"

namespace sdc {

bool ToFiniteFloats(const TensorView& t, std::vector<float>* out) {
  if (!IsLossyCodable(t.dtype)) return false;
  const size_t size = DTypeSize(t.dtype), n = t.data.size() / size;
  out->resize(n);
  const uint8_t* p = t.data.data();
  for (size_t i = 0; i < n; ++i, p += size) {
    float v = t.dtype == DType::kF32   ? BitsFloat(LoadLE32(p))
              : t.dtype == DType::kF16 ? HalfToFloat(LoadLE16(p))
                                       : Bf16ToFloat(LoadLE16(p));
    if (!std::isfinite(v)) return false;
    (*out)[i] = v;
  }
  return true;
}

}  // namespace sdc
