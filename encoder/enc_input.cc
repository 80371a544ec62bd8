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

Status AddImportance(std::span<const TensorView> importance, EncodeOptions* o) {
  for (const TensorView& t : importance) {
    std::vector<float> v;
    SDC_CHECK(ToFiniteFloats(t, &v), StatusCode::kInvalidArgument,
              "importance '" + t.name + "' must hold finite F32, F16 or BF16 values");
    o->importance[t.name] = std::move(v);
  }
  return Status::Ok();
}

Status AddHessians(std::span<const TensorView> hessians, EncodeOptions* o) {
  for (const TensorView& t : hessians) {
    std::vector<float> v;
    SDC_CHECK(t.shape.size() == 2 && t.shape[0] == t.shape[1], StatusCode::kInvalidArgument,
              "Hessian '" + t.name + "' must be a square [in, in] matrix");
    SDC_CHECK(ToFiniteFloats(t, &v), StatusCode::kInvalidArgument,
              "Hessian '" + t.name + "' must hold finite F32, F16 or BF16 values");
    o->hessians[t.name] = std::move(v);
  }
  return Status::Ok();
}

}  // namespace sdc
