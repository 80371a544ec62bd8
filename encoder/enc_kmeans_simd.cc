// The distance kernels of the CPU k-means (enc_kmeans_simd.h): portable code, AVX-512 and AVX2+FMA.
#include "encoder/enc_kmeans_simd.h"

#include <algorithm>

#ifdef SDC_KMEANS_X86
#include <immintrin.h>
#endif

namespace sdc::kmeans {
namespace {

template <bool kList>
void TileGeneric(const float* xt, size_t d, const float* cent, const uint32_t* cand, size_t count, uint32_t* idx) {
  float best[kLanes];
  uint32_t bi[kLanes];
  std::fill(best, best + kLanes, kInf);
  std::fill(bi, bi + kLanes, kList ? cand[0] : 0u);  // count >= 1
  for (size_t c = 0; c < count; ++c) {
    const uint32_t j = kList ? cand[c] : static_cast<uint32_t>(c);
    const float* r = cent + static_cast<size_t>(j) * d;
    float acc[kLanes] = {};
    for (size_t t = 0; t < d; ++t)
      for (size_t l = 0; l < kLanes; ++l) {
        const float v = xt[t * kLanes + l] - r[t];
        acc[l] = acc[l] + v * v;
      }
    for (size_t l = 0; l < kLanes; ++l)
      if (acc[l] < best[l]) best[l] = acc[l], bi[l] = j;
  }
  std::copy(bi, bi + kLanes, idx);
}

}  // namespace

Kernels GenericKernels() { return {&TileGeneric<false>, &TileGeneric<true>, 16}; }

void AllDistGeneric(const float* xc, const ByDim& p, float* q) {
  const size_t d = p.d;
  for (size_t b = 0; b < p.blocks; ++b) {
    const float* blk = p.soa.data() + b * d * kLanes;
    float acc[kLanes] = {};
    for (size_t t = 0; t < d; ++t)
      for (size_t l = 0; l < kLanes; ++l) {
        const float v = blk[t * kLanes + l] - xc[t];
        acc[l] = acc[l] + v * v;
      }
    std::copy(acc, acc + kLanes, q + b * kLanes);
  }
}

size_t ListWithinGeneric(const float* q, size_t blocks, float hi, uint32_t* out) {
  size_t m = 0;
  for (size_t j = 0; j < blocks * kLanes; ++j)
    if (q[j] <= hi) out[m++] = static_cast<uint32_t>(j);
  return m;
}

#ifdef SDC_KMEANS_X86
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -W(maybe-)uninitialized reports
// (GCC PR 105593): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
namespace {

template <int D>
__attribute__((target("avx512f"), always_inline)) inline __m512 Dist512(const __m512* x, const float* xt, size_t d,
                                                                        const float* r) {
  if constexpr (D > 0) {
    __m512 v = _mm512_sub_ps(x[0], _mm512_set1_ps(r[0]));
    __m512 a = _mm512_mul_ps(v, v);
    for (int t = 1; t < D; ++t) {
      v = _mm512_sub_ps(x[t], _mm512_set1_ps(r[t]));
      a = _mm512_fmadd_ps(v, v, a);
    }
    return a;
  } else {
    __m512 v = _mm512_sub_ps(_mm512_loadu_ps(xt), _mm512_set1_ps(r[0]));
    __m512 a = _mm512_mul_ps(v, v);
    for (size_t t = 1; t < d; ++t) {
      v = _mm512_sub_ps(_mm512_loadu_ps(xt + t * 16), _mm512_set1_ps(r[t]));
      a = _mm512_fmadd_ps(v, v, a);
    }
    return a;
  }
}

// Candidates come in increasing index order, so a strict comparison keeps the lowest index among equals.
__attribute__((target("avx512f"), always_inline)) inline void Take512(__m512 a, uint32_t j, __m512& best, __m512i& bi) {
  const __m512i jv = _mm512_set1_epi32(static_cast<int>(j));
  const __mmask16 m = _mm512_cmp_ps_mask(a, best, _CMP_LT_OQ);
  best = _mm512_mask_mov_ps(best, m, a);
  bi = _mm512_mask_mov_epi32(bi, m, jv);
}

// Merges two (best, index) states: least value, then lowest index.
__attribute__((target("avx512f"), always_inline)) inline void Merge512(__m512 b2, __m512i i2, __m512& best,
                                                                       __m512i& bi) {
  const __mmask16 m = _mm512_cmp_ps_mask(b2, best, _CMP_LT_OQ) |
                      _mm512_mask_cmp_ps_mask(_mm512_cmplt_epu32_mask(i2, bi), b2, best, _CMP_EQ_OQ);
  best = _mm512_mask_mov_ps(best, m, b2);
  bi = _mm512_mask_mov_epi32(bi, m, i2);
}

template <int D, bool kList>
__attribute__((target("avx512f"))) void Tile512(const float* xt, size_t d_rt, const float* cent, const uint32_t* cand,
                                                size_t count, uint32_t* idx) {
  // 8 candidates in flight (independent FMA chains), kept in 4 independent (best, index) states so that
  // the compare-and-move chains do not serialise; the states are merged at the end.
  constexpr int U = 8, A = 4;
  const size_t d = D > 0 ? static_cast<size_t>(D) : d_rt;
  __m512 x[D > 0 ? D : 1];
  if constexpr (D > 0)
    for (int t = 0; t < D; ++t) x[t] = _mm512_loadu_ps(xt + t * 16);
  __m512 best[A];
  __m512i bi[A];
  for (int s = 0; s < A; ++s) {
    best[s] = _mm512_set1_ps(kInf);
    bi[s] = _mm512_set1_epi32(static_cast<int>(kList ? cand[0] : 0u));  // count >= 1
  }
  size_t c = 0;
  for (; c + U <= count; c += U) {
    __m512 a[U];
    uint32_t j[U];
    for (int u = 0; u < U; ++u) {
      j[u] = kList ? cand[c + u] : static_cast<uint32_t>(c + u);
      a[u] = Dist512<D>(x, xt, d, cent + static_cast<size_t>(j[u]) * d);
    }
    for (int u = 0; u < U; ++u) Take512(a[u], j[u], best[u % A], bi[u % A]);
  }
  for (; c < count; ++c) {
    const uint32_t j = kList ? cand[c] : static_cast<uint32_t>(c);
    Take512(Dist512<D>(x, xt, d, cent + static_cast<size_t>(j) * d), j, best[0], bi[0]);
  }
  for (int s = 1; s < A; ++s) Merge512(best[s], bi[s], best[0], bi[0]);
  _mm512_storeu_si512(idx, bi[0]);
}

__attribute__((target("avx2,fma"), always_inline)) inline __m256 Dist256(const float* xt, size_t d, const float* r) {
  __m256 v = _mm256_sub_ps(_mm256_loadu_ps(xt), _mm256_set1_ps(r[0]));
  __m256 a = _mm256_mul_ps(v, v);
  for (size_t t = 1; t < d; ++t) {
    v = _mm256_sub_ps(_mm256_loadu_ps(xt + t * 8), _mm256_set1_ps(r[t]));
    a = _mm256_fmadd_ps(v, v, a);
  }
  return a;
}

__attribute__((target("avx2,fma"), always_inline)) inline void Take256(__m256 a, uint32_t j, __m256& best,
                                                                       __m256i& bi) {
  const __m256i jv = _mm256_set1_epi32(static_cast<int>(j));
  const __m256 m = _mm256_cmp_ps(a, best, _CMP_LT_OQ);
  best = _mm256_blendv_ps(best, a, m);
  bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(jv), m));
}

template <bool kList>
__attribute__((target("avx2,fma"))) void Tile256(const float* xt, size_t d, const float* cent, const uint32_t* cand,
                                                 size_t count, uint32_t* idx) {
  constexpr int U = 4, A = 2;
  __m256 best[A];
  __m256i bi[A];
  for (int s = 0; s < A; ++s) {
    best[s] = _mm256_set1_ps(kInf);
    bi[s] = _mm256_set1_epi32(static_cast<int>(kList ? cand[0] : 0u));  // count >= 1
  }
  size_t c = 0;
  for (; c + U <= count; c += U) {
    __m256 a[U];
    uint32_t j[U];
    for (int u = 0; u < U; ++u) {
      j[u] = kList ? cand[c + u] : static_cast<uint32_t>(c + u);
      a[u] = Dist256(xt, d, cent + static_cast<size_t>(j[u]) * d);
    }
    for (int u = 0; u < U; ++u) Take256(a[u], j[u], best[u % A], bi[u % A]);
  }
  for (; c < count; ++c) {
    const uint32_t j = kList ? cand[c] : static_cast<uint32_t>(c);
    Take256(Dist256(xt, d, cent + static_cast<size_t>(j) * d), j, best[0], bi[0]);
  }
  alignas(32) float b0[8], b1[8];
  alignas(32) uint32_t i0[8], i1[8];
  _mm256_store_ps(b0, best[0]);
  _mm256_store_ps(b1, best[1]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(i0), bi[0]);
  _mm256_store_si256(reinterpret_cast<__m256i*>(i1), bi[1]);
  for (int l = 0; l < 8; ++l) idx[l] = b1[l] < b0[l] || (b1[l] == b0[l] && i1[l] < i0[l]) ? i1[l] : i0[l];
}

template <int D>
Kernels Kernels512() {
  return {&Tile512<D, false>, &Tile512<D, true>, 16};
}

}  // namespace

// One kernel per dimension up to 16 keeps the point's coordinates in registers; larger d loops over them.
Kernels Avx512Kernels(size_t d) {
  switch (d) {
    case 1: return Kernels512<1>();
    case 2: return Kernels512<2>();
    case 3: return Kernels512<3>();
    case 4: return Kernels512<4>();
    case 5: return Kernels512<5>();
    case 6: return Kernels512<6>();
    case 7: return Kernels512<7>();
    case 8: return Kernels512<8>();
    case 9: return Kernels512<9>();
    case 10: return Kernels512<10>();
    case 11: return Kernels512<11>();
    case 12: return Kernels512<12>();
    case 13: return Kernels512<13>();
    case 14: return Kernels512<14>();
    case 15: return Kernels512<15>();
    case 16: return Kernels512<16>();
    default: return Kernels512<0>();
  }
}

Kernels Avx2Kernels() { return {&Tile256<false>, &Tile256<true>, 8}; }

__attribute__((target("avx512f"))) void AllDistAvx512(const float* xc, const ByDim& p, float* q) {
  const size_t d = p.d;
  const float* blk = p.soa.data();
  for (size_t b = 0; b < p.blocks; ++b, blk += d * kLanes) {
    __m512 v = _mm512_sub_ps(_mm512_loadu_ps(blk), _mm512_set1_ps(xc[0]));
    __m512 a = _mm512_mul_ps(v, v);
    for (size_t t = 1; t < d; ++t) {
      v = _mm512_sub_ps(_mm512_loadu_ps(blk + t * kLanes), _mm512_set1_ps(xc[t]));
      a = _mm512_fmadd_ps(v, v, a);
    }
    _mm512_storeu_ps(q + b * kLanes, a);
  }
}

__attribute__((target("avx512f"))) size_t ListWithinAvx512(const float* q, size_t blocks, float hi, uint32_t* out) {
  const __m512 vhi = _mm512_set1_ps(hi);
  __m512i j = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  size_t m = 0;
  for (size_t b = 0; b < blocks; ++b, j = _mm512_add_epi32(j, step)) {
    const __m512 v = _mm512_loadu_ps(q + b * kLanes);
    const __mmask16 in = _mm512_cmp_ps_mask(v, vhi, _CMP_LE_OQ);
    _mm512_mask_compressstoreu_epi32(out + m, in, j);
    m += static_cast<size_t>(__builtin_popcount(in));
  }
  return m;
}
#pragma GCC diagnostic pop
#endif  // SDC_KMEANS_X86

}  // namespace sdc::kmeans
