// How a tensor of any rank is seen as a matrix by the row-wise codecs: cols = the last dimension,
// rows = the product of the others (a 0-d tensor is 1 x 1, a 1-d tensor of n elements is 1 x n).
#pragma once

#include <cstdint>
#include <span>

namespace sdc {

struct RowLayout {
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t numel() const { return rows * cols; }
};

// Product of dims with overflow detection; false when the product exceeds `cap`.
inline bool CheckedNumel(std::span<const uint64_t> shape, uint64_t cap, uint64_t* numel) {
  uint64_t n = 1;
  for (uint64_t d : shape) {
    if (d != 0 && n > cap / d) return false;
    n *= d;
  }
  if (n > cap) return false;
  *numel = n;
  return true;
}

// Callers have already checked that the element count does not overflow.
inline RowLayout RowsOf(std::span<const uint64_t> shape) {
  RowLayout r{1, 1};
  if (shape.empty()) return r;
  r.cols = shape.back();
  for (size_t i = 0; i + 1 < shape.size(); ++i) r.rows *= shape[i];
  return r;
}

// Groups per row for per-group scales (group_size 0: one group spanning the row).
inline uint64_t GroupsPerRow(uint64_t cols, uint32_t group_size) {
  if (cols == 0) return 0;
  if (group_size == 0) return 1;
  return (cols + group_size - 1) / group_size;
}

}  // namespace sdc
