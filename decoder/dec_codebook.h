// Reconstruction of the codebook representation (spec/format.md, "Codebook representation"):
//   acc = 0;  for m in 0..M-1:  acc = acc + alpha_m * B_m[i_m[r][j]][e]      (binary32, this order, no FMA)
//   value[r][j*dim + e] = acc * scale[r][(j*dim + e) / group]
// then sparse residual corrections (value += step * v at listed positions), then rounding to the tensor
// dtype. The encoder calls this same function to compute the tensor hash.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "format/status.h"
#include "format/tensor_layout.h"
#include "format/types.h"

namespace sdc {

struct BankView {
  std::span<const float> entries;  // k * dim, already widened to binary32
  uint32_t k = 0;
};

struct CodebookLayout {
  RowLayout rows;
  uint32_t dim = 1;
  uint32_t group_size = 0;  // 0: one scale per row; else a multiple of dim
  DType scale_dtype = DType::kF16;
  int index_bytes = 1;  // 1 or 2
};

struct ResidualView {
  uint64_t count = 0;
  std::span<const uint8_t> positions;  // LEB128 gaps
  std::span<const uint8_t> values;     // int8
  float step = 0;
};

// Vectors per row: ceil(cols / dim).
inline uint64_t VectorsPerRow(uint64_t cols, uint32_t dim) { return cols == 0 ? 0 : (cols + dim - 1) / dim; }

// Bank bytes (k * dim little-endian entries of F16 or F32) widened to binary32; every entry must be finite.
Status DecodeBankEntries(std::span<const uint8_t> raw, DType entry_dtype, std::vector<float>* out);

// Flat positions of a sparse residual; checks the encoding and that every position is below numel.
Status DecodeResidualPositions(const ResidualView& r, uint64_t numel, std::vector<uint64_t>* positions);

Status DequantizeCodebook(const CodebookLayout& layout, std::span<const BankView> banks,
                          std::span<const float> coefficients, std::span<const uint8_t> scales,
                          std::span<const std::span<const uint8_t>> indices, const ResidualView* residual,
                          DType out_dtype, std::span<uint8_t> out);

}  // namespace sdc
