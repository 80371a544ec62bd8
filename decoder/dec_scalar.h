// Reconstruction of the scalar representation (spec/format.md, "Scalar representation"):
//   Q = 2^(bits-1) - 1;  value[r][c] = float(code[r][c] - Q) * scale[r][c / group]   (one binary32 product)
// then rounded to the tensor dtype. The encoder calls this same function to compute the tensor hash, so
// the encoder's reconstruction and the decoder's are the same bits by construction.
#pragma once

#include <cstdint>
#include <span>

#include "format/status.h"
#include "format/tensor_layout.h"
#include "format/types.h"

namespace sdc {

struct ScalarLayout {
  RowLayout rows;
  int bits = 8;
  uint32_t group_size = 0;  // 0: one scale per row
  DType scale_dtype = DType::kF16;
};

// `scales` holds rows * groups_per_row little-endian scales; `codes` rows * cols bytes; `out` receives
// rows * cols elements of `out_dtype` (F32, F16 or BF16). Fails on a code above 2Q or a scale that is
// negative or not finite.
Status DequantizeScalar(const ScalarLayout& layout, std::span<const uint8_t> scales, std::span<const uint8_t> codes,
                        DType out_dtype, std::span<uint8_t> out);

// Writes one binary32 value as `dtype` (F32, F16 or BF16; round to nearest even) at `dst`.
void StoreFloatAs(float v, DType dtype, uint8_t* dst);

}  // namespace sdc
