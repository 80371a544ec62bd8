#include "decoder/dec_codebook.h"

#include <cmath>
#include <string>

#include "decoder/dec_scalar.h"
#include "format/endian.h"
#include "format/float_bits.h"

namespace sdc {

Status DecodeBankEntries(std::span<const uint8_t> raw, DType entry_dtype, std::vector<float>* out) {
  const size_t size = DTypeSize(entry_dtype);
  out->resize(raw.size() / size);
  for (size_t i = 0; i < out->size(); ++i) {
    const uint8_t* p = raw.data() + i * size;
    const float v = entry_dtype == DType::kF16 ? HalfToFloat(LoadLE16(p)) : BitsFloat(LoadLE32(p));
    SDC_CHECK(std::isfinite(v), StatusCode::kCorrupt, "bank entry " + std::to_string(i) + " is not finite");
    (*out)[i] = v;
  }
  return Status::Ok();
}

Status DecodeResidualPositions(const ResidualView& r, uint64_t numel, std::vector<uint64_t>* positions) {
  positions->clear();
  positions->reserve(r.count);
  size_t at = 0;
  uint64_t pos = 0;
  for (uint64_t i = 0; i < r.count; ++i) {
    uint64_t gap = 0;
    for (int shift = 0;; shift += 7) {
      SDC_CHECK(at < r.positions.size(), StatusCode::kCorrupt, "residual positions: truncated varint");
      const uint8_t b = r.positions[at++];
      SDC_CHECK(shift < 63 || (b & 0x7f) <= 1, StatusCode::kCorrupt, "residual positions: varint overflows 64 bits");
      gap |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      SDC_CHECK(shift < 63, StatusCode::kCorrupt, "residual positions: varint longer than 10 bytes");
    }
    const uint64_t step = i == 0 ? 0 : 1;
    SDC_CHECK(gap < numel && pos + step <= numel - 1 - gap, StatusCode::kCorrupt,
              "residual positions: position past the end of the tensor");
    pos = pos + step + gap;
    positions->push_back(pos);
  }
  SDC_CHECK(at == r.positions.size(), StatusCode::kCorrupt, "residual positions: bytes left after the last position");
  return Status::Ok();
}

Status DequantizeCodebook(const CodebookLayout& layout, std::span<const BankView> banks,
                          std::span<const float> coefficients, std::span<const uint8_t> scales,
                          std::span<const std::span<const uint8_t>> indices, const ResidualView* residual,
                          DType out_dtype, std::span<uint8_t> out) {
  const uint64_t rows = layout.rows.rows, cols = layout.rows.cols, dim = layout.dim;
  const uint64_t vpr = VectorsPerRow(cols, layout.dim);
  const uint64_t gpr = GroupsPerRow(cols, layout.group_size);
  const uint64_t group = layout.group_size == 0 ? cols : layout.group_size;
  const size_t ssize = DTypeSize(layout.scale_dtype), osize = DTypeSize(out_dtype);
  const size_t m_count = banks.size();
  SDC_CHECK(m_count >= 1 && coefficients.size() == m_count && indices.size() == m_count &&
                scales.size() == rows * gpr * ssize && out.size() == rows * cols * osize,
            StatusCode::kInternal, "codebook: buffer sizes do not match the layout");
  for (size_t m = 0; m < m_count; ++m)
    SDC_CHECK(indices[m].size() == rows * vpr * layout.index_bytes && banks[m].entries.size() == banks[m].k * dim,
              StatusCode::kInternal, "codebook: index or bank size does not match the layout");

  std::vector<float> s(rows * gpr);
  for (size_t i = 0; i < s.size(); ++i) {
    const uint8_t* p = scales.data() + i * ssize;
    s[i] = layout.scale_dtype == DType::kF16 ? HalfToFloat(LoadLE16(p)) : BitsFloat(LoadLE32(p));
    SDC_CHECK(std::isfinite(s[i]), StatusCode::kCorrupt, "codebook: scale " + std::to_string(i) + " is not finite");
  }
  // Every index must name an entry of its bank.
  for (size_t m = 0; m < m_count; ++m) {
    uint32_t max_index = 0;
    for (uint64_t v = 0; v < rows * vpr; ++v) {
      const uint32_t i = layout.index_bytes == 1 ? indices[m][v] : LoadLE16(indices[m].data() + 2 * v);
      max_index = i > max_index ? i : max_index;
    }
    SDC_CHECK(rows * vpr == 0 || max_index < banks[m].k, StatusCode::kCorrupt,
              "codebook: index " + std::to_string(max_index) + " of stream " + std::to_string(m) +
                  " exceeds its bank of " + std::to_string(banks[m].k) + " entries");
  }
  std::vector<uint64_t> positions;
  if (residual) SDC_RETURN_IF_ERROR(DecodeResidualPositions(*residual, rows * cols, &positions));

  // The binary32 value of element (r, c) before any residual, in the spec's fixed order.
  auto value = [&](uint64_t r, uint64_t c) {
    const uint64_t v = r * vpr + c / dim, e = c % dim;
    float acc = 0.0f;
    for (size_t m = 0; m < m_count; ++m) {
      const uint32_t i = layout.index_bytes == 1 ? indices[m][v] : LoadLE16(indices[m].data() + 2 * v);
      acc = acc + coefficients[m] * banks[m].entries[i * dim + e];
    }
    return acc * s[r * gpr + c / group];
  };
  // Rows are independent: the same bytes for any thread count.
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r)
    for (uint64_t c = 0; c < cols; ++c) StoreFloatAs(value(r, c), out_dtype, out.data() + (r * cols + c) * osize);
  // Corrections apply to the binary32 value before the output rounding: those elements are stored again.
  for (uint64_t k = 0; k < positions.size(); ++k) {
    const uint64_t p = positions[k];
    const float fixed =
        value(p / cols, p % cols) + residual->step * static_cast<float>(static_cast<int8_t>(residual->values[k]));
    StoreFloatAs(fixed, out_dtype, out.data() + p * osize);
  }
  return Status::Ok();
}

}  // namespace sdc
