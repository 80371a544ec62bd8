#include "decoder/dec_scalar.h"

#include <cmath>
#include <string>
#include <vector>

#include "format/endian.h"
#include "format/float_bits.h"

namespace sdc {

namespace {

template <DType kOut>
inline void Store(float v, uint8_t* dst) {
  if constexpr (kOut == DType::kF16)
    StoreLE16(dst, FloatToHalf(v));
  else if constexpr (kOut == DType::kBF16)
    StoreLE16(dst, FloatToBf16(v));
  else
    StoreLE32(dst, FloatBits(v));
}

// The rule of dec_scalar.h, one output dtype per instance and one scale per run of `group` codes, so the
// inner loop is a plain multiply-and-store the compiler vectorises (one dtype switch per element and one
// division for each element's group made it a third of `verify`'s time).
template <DType kOut>
void DequantizeRows(const uint8_t* codes, const float* s, uint64_t rows, uint64_t cols, uint64_t gpr, uint64_t group,
                    int q, uint8_t* out) {
  constexpr size_t kSize = kOut == DType::kF32 ? 4 : 2;
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) {
    const uint8_t* crow = codes + r * cols;
    uint8_t* orow = out + r * cols * kSize;
    for (uint64_t g = 0, c0 = 0; g < gpr; ++g, c0 += group) {
      const float scale = s[r * gpr + g];
      const uint64_t c1 = c0 + group < cols ? c0 + group : cols;
      for (uint64_t c = c0; c < c1; ++c)
        Store<kOut>(static_cast<float>(static_cast<int>(crow[c]) - q) * scale, orow + c * kSize);
    }
  }
}

}  // namespace

void StoreFloatAs(float v, DType dtype, uint8_t* dst) {
  switch (dtype) {
    case DType::kF16: Store<DType::kF16>(v, dst); break;
    case DType::kBF16: Store<DType::kBF16>(v, dst); break;
    default: Store<DType::kF32>(v, dst); break;
  }
}

Status DequantizeScalar(const ScalarLayout& layout, std::span<const uint8_t> scales, std::span<const uint8_t> codes,
                        DType out_dtype, std::span<uint8_t> out) {
  const uint64_t rows = layout.rows.rows, cols = layout.rows.cols;
  const uint64_t gpr = GroupsPerRow(cols, layout.group_size);
  const uint64_t group = layout.group_size == 0 ? cols : layout.group_size;
  const size_t ssize = DTypeSize(layout.scale_dtype), osize = DTypeSize(out_dtype);
  SDC_CHECK(layout.bits >= 2 && layout.bits <= 8, StatusCode::kCorrupt, "scalar: bits outside 2..8");
  SDC_CHECK(scales.size() == rows * gpr * ssize && codes.size() == rows * cols && out.size() == rows * cols * osize,
            StatusCode::kInternal, "scalar: buffer sizes do not match the layout");
  const int q = (1 << (layout.bits - 1)) - 1;

  std::vector<float> s(rows * gpr);
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t* p = scales.data() + i * ssize;
    s[i] = layout.scale_dtype == DType::kF16 ? HalfToFloat(LoadLE16(p)) : BitsFloat(LoadLE32(p));
    SDC_CHECK(std::isfinite(s[i]) && !(s[i] < 0.0f), StatusCode::kCorrupt,
              "scalar: scale " + std::to_string(i) + " is negative or not finite");
  }
  uint8_t max_code = 0;
  for (uint8_t c : codes) max_code = c > max_code ? c : max_code;
  SDC_CHECK(max_code <= 2 * q, StatusCode::kCorrupt,
            "scalar: code " + std::to_string(max_code) + " exceeds 2Q = " + std::to_string(2 * q));

  // Rows are independent, so any thread count gives the same bytes.
  switch (out_dtype) {
    case DType::kF16: DequantizeRows<DType::kF16>(codes.data(), s.data(), rows, cols, gpr, group, q, out.data()); break;
    case DType::kBF16:
      DequantizeRows<DType::kBF16>(codes.data(), s.data(), rows, cols, gpr, group, q, out.data());
      break;
    default: DequantizeRows<DType::kF32>(codes.data(), s.data(), rows, cols, gpr, group, q, out.data()); break;
  }
  return Status::Ok();
}

}  // namespace sdc
