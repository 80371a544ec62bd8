// Helpers shared by the test binaries: reference number conversions written independently of
// format/float_bits.h (GCC's _Float16 and a distance-comparison bf16 rounding), a reference scalar
// dequantizer that follows spec/format.md §8.3 literally, deterministic random data and byte helpers.
// Header-only and free of encoder code, so the decoder-only build can use it.
#pragma once

#ifdef _OPENMP
#include <omp.h>
#endif

#include <xxhash.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "format/types.h"

// Marks a test that pins a known bug of the code under test: skipped ("BUG: ...") unless the environment
// sets SDC_RUN_KNOWN_BUGS=1, so a fix can be checked by running the suite with it set.
#define SDC_KNOWN_BUG(message)                                                                       \
  do {                                                                                               \
    const char* run_known_bugs_ = std::getenv("SDC_RUN_KNOWN_BUGS");                                 \
    if (!run_known_bugs_ || std::string(run_known_bugs_) != "1") GTEST_SKIP() << "BUG: " << message; \
  } while (0)

namespace sdc::test {

// OpenMP's thread count, for the tests that decode with 1 and with 2 threads; without OpenMP (a decoder
// built with SDC_OPENMP=OFF) there is one thread and these do nothing.
inline int MaxThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
inline void SetThreads([[maybe_unused]] int n) {
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}

// ---- Reference conversions ---------------------------------------------------------------------------

inline uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float FromBits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// binary32 -> binary16 through the compiler's _Float16 (libgcc soft-float, round to nearest even).
inline uint16_t RefFloatToHalf(float f) {
  volatile float v = f;  // keep the conversion at run time
  _Float16 h = static_cast<_Float16>(v);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

inline float RefHalfToFloat(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  volatile _Float16 vh = h;
  return static_cast<float>(vh);
}

// Value of a non-negative bf16 magnitude pattern as a double; 0x7f80 (the step past the largest finite)
// is 2^128, so rounding up from the largest finite value compares against the right distance.
inline double Bf16MagnitudeValue(uint32_t mag) {
  if (mag == 0x7f80u) return std::ldexp(1.0, 128);
  return static_cast<double>(FromBits(mag << 16));
}

// binary32 -> bfloat16, round to nearest even, by comparing the distances to the two neighbours in double
// (exact there). Finite and infinite inputs only.
inline uint16_t RefFloatToBf16(float f) {
  const uint32_t x = Bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;
  if (ax == 0x7f800000u) return static_cast<uint16_t>(sign | 0x7f80u);
  const uint32_t lo = ax >> 16, hi = lo + 1;
  const double v = std::fabs(static_cast<double>(f));
  const double dlo = v - Bf16MagnitudeValue(lo), dhi = Bf16MagnitudeValue(hi) - v;
  uint32_t pick;
  if (dlo < dhi)
    pick = lo;
  else if (dhi < dlo)
    pick = hi;
  else
    pick = (lo & 1u) ? hi : lo;
  return static_cast<uint16_t>(sign | pick);
}

inline float RefBf16ToFloat(uint16_t b) { return FromBits(static_cast<uint32_t>(b) << 16); }

// "Store v as dtype" (§7) with the reference conversions; NaN follows the spec's quieting rules (the
// oracles are only trusted on numbers).
inline void RefStoreAs(float v, DType dtype, uint8_t* dst) {
  if (std::isnan(v) && dtype != DType::kF32) {
    const uint32_t x = Bits(v);
    const uint16_t h =
        dtype == DType::kF16
            ? static_cast<uint16_t>(((x >> 16) & 0x8000u) | 0x7e00u | (((x & 0x7fffffffu) >> 13) & 0x3ffu))
            : static_cast<uint16_t>((x >> 16) | 0x40u);
    dst[0] = static_cast<uint8_t>(h), dst[1] = static_cast<uint8_t>(h >> 8);
    return;
  }
  if (dtype == DType::kF16) {
    uint16_t h = RefFloatToHalf(v);
    dst[0] = static_cast<uint8_t>(h), dst[1] = static_cast<uint8_t>(h >> 8);
  } else if (dtype == DType::kBF16) {
    uint16_t b = RefFloatToBf16(v);
    dst[0] = static_cast<uint8_t>(b), dst[1] = static_cast<uint8_t>(b >> 8);
  } else {
    uint32_t u = Bits(v);
    for (int i = 0; i < 4; ++i) dst[i] = static_cast<uint8_t>(u >> (8 * i));
  }
}

inline uint16_t Le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
inline uint32_t Le32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Element i of a float tensor (F32, F16 or BF16) as binary32, with the reference conversions.
inline float RefLoad(DType dtype, const uint8_t* data, size_t i) {
  if (dtype == DType::kF16) return RefHalfToFloat(Le16(data + 2 * i));
  if (dtype == DType::kBF16) return RefBf16ToFloat(Le16(data + 2 * i));
  return FromBits(Le32(data + 4 * i));
}

// The scalar rule of spec §8.3, written out literally: value = float(code - Q) * scale, then stored as
// `out`. `scales` are little-endian F16 or F32.
inline std::vector<uint8_t> RefDequantizeScalar(uint64_t rows, uint64_t cols, int bits, uint32_t group_size,
                                                DType scale_dtype, std::span<const uint8_t> scales,
                                                std::span<const uint8_t> codes, DType out) {
  const int q = (1 << (bits - 1)) - 1;
  const uint64_t gpr = cols == 0 ? 0 : group_size == 0 ? 1 : (cols + group_size - 1) / group_size;
  const uint64_t group = group_size == 0 ? cols : group_size;
  const size_t osize = DTypeSize(out);
  std::vector<uint8_t> result(rows * cols * osize);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const uint64_t si = r * gpr + c / group;
      const float scale = scale_dtype == DType::kF16 ? RefHalfToFloat(Le16(scales.data() + 2 * si))
                                                     : FromBits(Le32(scales.data() + 4 * si));
      const int code = codes[r * cols + c];
      const float value = static_cast<float>(code - q) * scale;
      RefStoreAs(value, out, result.data() + (r * cols + c) * osize);
    }
  return result;
}

// ---- Reference codebook reconstruction (spec §8.4) -----------------------------------------------------

// A bank's entries widened to binary32 with the reference conversions: k * dim values, row-major.
struct RefBank {
  std::vector<float> entries;
  uint32_t k = 0;
  uint32_t dim = 0;
};

// Bank bytes (k * dim little-endian values of F16 or F32) widened to binary32.
inline RefBank RefBankOf(std::span<const uint8_t> bytes, uint32_t k, uint32_t dim, DType entry_dtype) {
  RefBank b;
  b.k = k;
  b.dim = dim;
  const size_t n = static_cast<size_t>(k) * dim;
  b.entries.resize(n);
  for (size_t i = 0; i < n && (i + 1) * DTypeSize(entry_dtype) <= bytes.size(); ++i)
    b.entries[i] =
        entry_dtype == DType::kF16 ? RefHalfToFloat(Le16(bytes.data() + 2 * i)) : FromBits(Le32(bytes.data() + 4 * i));
  return b;
}

// Unsigned LEB128 gaps of strictly increasing positions: g_0 = p_0, g_i = p_i - p_(i-1) - 1.
inline std::vector<uint8_t> Leb128Gaps(const std::vector<uint64_t>& positions) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < positions.size(); ++i) {
    uint64_t g = i == 0 ? positions[0] : positions[i] - positions[i - 1] - 1;
    while (g >= 0x80) {
      out.push_back(static_cast<uint8_t>(0x80 | (g & 0x7f)));
      g >>= 7;
    }
    out.push_back(static_cast<uint8_t>(g));
  }
  return out;
}

struct RefResidual {
  uint64_t count = 0;
  std::span<const uint8_t> positions;  // LEB128 gaps
  std::span<const uint8_t> values;     // int8
  float step = 0;
};

// The codebook rule of spec §8.4, written out literally, element by element: acc = +0.0; for each codebook
// acc = acc + (alpha_m * B_m[idx][e]); value = acc * scale; then the sparse residual (value + step * v), then
// store as `out`. Returns false (and nothing) when the input breaks a rule the spec makes the decoder check:
// an index >= k, a non-finite scale or entry, residual varints that are malformed or out of range.
inline bool RefDequantizeCodebook(uint64_t rows, uint64_t cols, uint32_t dim, const std::vector<const RefBank*>& banks,
                                  std::span<const float> alpha, uint32_t group_size, DType scale_dtype,
                                  std::span<const uint8_t> scales, const std::vector<std::vector<uint8_t>>& indices,
                                  const RefResidual* residual, DType out, std::vector<uint8_t>* result) {
  const size_t m_count = banks.size();
  if (m_count == 0 || alpha.size() != m_count || indices.size() != m_count) return false;
  bool wide = false;
  for (const RefBank* b : banks) {
    if (b->dim != dim) return false;
    wide = wide || b->k > 256;
    for (float e : b->entries)
      if (!std::isfinite(e)) return false;
  }
  const uint64_t vpr = cols == 0 ? 0 : (cols + dim - 1) / dim;
  const uint64_t gpr = cols == 0 ? 0 : group_size == 0 ? 1 : (cols + group_size - 1) / group_size;
  const uint64_t group = group_size == 0 ? cols : group_size;
  const size_t ssize = DTypeSize(scale_dtype), width = wide ? 2 : 1;
  if (scales.size() != rows * gpr * ssize) return false;
  for (const auto& s : indices)
    if (s.size() != rows * vpr * width) return false;
  const uint64_t numel = rows * cols;
  std::vector<float> value(numel);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const uint64_t j = c / dim, e = c % dim, v = r * vpr + j;
      float acc = +0.0f;
      for (size_t m = 0; m < m_count; ++m) {
        const uint32_t idx = wide ? Le16(indices[m].data() + 2 * v) : indices[m][v];
        if (idx >= banks[m]->k) return false;
        const float term = alpha[m] * banks[m]->entries[static_cast<size_t>(idx) * dim + e];
        acc = acc + term;
      }
      const uint64_t si = r * gpr + c / group;
      const float scale = scale_dtype == DType::kF16 ? RefHalfToFloat(Le16(scales.data() + 2 * si))
                                                     : FromBits(Le32(scales.data() + 4 * si));
      if (!std::isfinite(scale)) return false;
      value[r * cols + c] = acc * scale;
    }
  if (residual) {
    if (residual->values.size() != residual->count) return false;
    size_t at = 0;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < residual->count; ++i) {
      uint64_t gap = 0;
      int bytes = 0;
      for (;;) {
        if (at >= residual->positions.size() || bytes == 10) return false;
        const uint8_t b = residual->positions[at++];
        if (bytes == 9 && (b & 0x7e)) return false;  // the value would not fit 64 bits
        gap |= static_cast<uint64_t>(b & 0x7f) << (7 * bytes);
        ++bytes;
        if (!(b & 0x80)) break;
      }
      // p_0 = g_0; p_i = p_(i-1) + 1 + g_i, computed without wrapping.
      if (gap >= numel) return false;
      const uint64_t base = i == 0 ? 0 : prev + 1;
      if (base >= numel || gap > numel - 1 - base) return false;
      const uint64_t p = base + gap;
      const float correction = residual->step * static_cast<float>(static_cast<int8_t>(residual->values[i]));
      value[p] = value[p] + correction;
      prev = p;
    }
    if (at != residual->positions.size()) return false;
  }
  const size_t osize = DTypeSize(out);
  result->assign(numel * osize, 0);
  for (uint64_t i = 0; i < numel; ++i) RefStoreAs(value[i], out, result->data() + i * osize);
  return true;
}

// ---- Data ----------------------------------------------------------------------------------------------

// The concatenation of byte strings (sized up front: GCC 12 warns falsely on inserts into small vectors).
inline std::vector<uint8_t> Concat(std::initializer_list<std::span<const uint8_t>> parts) {
  size_t n = 0;
  for (auto p : parts) n += p.size();
  std::vector<uint8_t> out(n);
  size_t at = 0;
  for (auto p : parts) {
    if (!p.empty()) std::memcpy(out.data() + at, p.data(), p.size());
    at += p.size();
  }
  return out;
}

inline uint64_t Hash(std::span<const uint8_t> b) { return XXH64(b.data(), b.size(), 0); }

inline std::vector<uint8_t> FloatsAs(DType dtype, std::span<const float> v) {
  std::vector<uint8_t> out(v.size() * DTypeSize(dtype));
  for (size_t i = 0; i < v.size(); ++i) RefStoreAs(v[i], dtype, out.data() + i * DTypeSize(dtype));
  return out;
}

// Deterministic Gaussian values (Box-Muller on a fixed engine, so every platform gets the same numbers).
inline std::vector<float> Gaussian(size_t n, uint64_t seed, double sigma = 1.0) {
  std::mt19937_64 rng(seed);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    const double u1 = (static_cast<double>(rng() >> 11) + 1.0) / 9007199254740993.0;
    const double u2 = static_cast<double>(rng() >> 11) / 9007199254740992.0;
    v[i] = static_cast<float>(sigma * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }
  return v;
}

inline std::vector<uint8_t> RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

inline uint64_t Numel(const std::vector<uint64_t>& shape) {
  uint64_t n = 1;
  for (uint64_t d : shape) n *= d;
  return n;
}

}  // namespace sdc::test
