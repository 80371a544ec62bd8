#include "encoder/enc_kmeans.h"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SDC_KMEANS_X86 1
#endif

namespace sdc {
namespace {

constexpr size_t kLanes = 16;   // centroids per block of the by-dimension layout; points per tile, at most
constexpr size_t kGroup = 512;  // points per parallel work item of a full scan
constexpr float kInf = std::numeric_limits<float>::infinity();

// ---------------------------------------------------------------------------------------------------------
// Deterministic random numbers: splitmix64.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
};

// `m` distinct indices of [0, n), uniformly (Floyd's algorithm), in increasing order.
std::vector<uint32_t> SampleIndices(size_t n, size_t m, Rng& rng) {
  std::vector<uint32_t> out;
  out.reserve(std::min(n, m));
  if (m >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint32_t>(i));
    return out;
  }
  std::vector<uint8_t> taken(n, 0);
  for (size_t j = n - m; j < n; ++j) {
    const size_t t = rng.Below(j + 1);
    taken[taken[t] ? j : t] = 1;
  }
  for (size_t i = 0; i < n; ++i)
    if (taken[i]) out.push_back(static_cast<uint32_t>(i));
  return out;
}

// Exact squared distance, accumulated in double in dimension order.
inline double Dist2(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t t = 0; t < d; ++t) {
    const double v = static_cast<double>(a[t]) - static_cast<double>(b[t]);
    s += v * v;
  }
  return s;
}

inline float RoundUp(double v) {
  const float f = static_cast<float>(v);
  return static_cast<double>(f) >= v ? f : std::nextafter(f, kInf);
}

// ---------------------------------------------------------------------------------------------------------
// Distances in the kernels are computed directly, sum_t (x_t - c_t)^2 in float: unlike |c|^2 - 2 x.c (the
// GEMM form), the rounding error is relative to the distance itself, so near neighbours stay ordered even
// far from the origin; and the subtractions run on the adders beside the FMAs, so it costs no more.
// Relative error bound of such a float distance (d rounded subtractions, squares and sums), with room.
inline double RelErr(size_t d) { return static_cast<double>(d + 4) * 0x1.0p-22; }

// Centroid coordinates by dimension in blocks of 16 (padding +inf), for the distances from one point to
// every centroid.
struct ByDim {
  size_t d = 0, k = 0, blocks = 0;
  std::vector<float> soa;
};

void MakeByDim(const float* c, size_t k, size_t d, ByDim* p) {
  p->d = d;
  p->k = k;
  p->blocks = (k + kLanes - 1) / kLanes;
  p->soa.assign(p->blocks * d * kLanes, kInf);
  for (size_t j = 0; j < k; ++j) {
    float* blk = p->soa.data() + (j / kLanes) * d * kLanes + j % kLanes;
    for (size_t t = 0; t < d; ++t) blk[t * kLanes] = c[j * d + t];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Tile kernels: a tile of `lanes` points stored by dimension (xt[t * lanes + l]) against centroids
// (row-major, k x d): either all of them (cand == nullptr, count = k) or the listed ones, in increasing
// index order. Output: for each lane, the centroid at the least float distance, ties to the lowest index.
// Per candidate and tile: d subtractions and d FMAs (the centroid's coordinates broadcast from memory), a
// compare and two masked moves.
using TileFn = void (*)(const float* xt, size_t d, const float* cent, const uint32_t* cand, size_t count,
                        uint32_t* idx);
struct Kernels {
  TileFn all = nullptr, list = nullptr;
  size_t lanes = 0;
};

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

// Squared distances from one point to every centroid (q: blocks * 16 entries; padding gives +inf).
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

#ifdef SDC_KMEANS_X86
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -W(maybe-)uninitialized reports
// (GCC PR 105593): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"

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

__attribute__((target("avx512f"))) void AllDist512(const float* xc, const ByDim& p, float* q) {
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
#pragma GCC diagnostic pop

enum class Isa { kGeneric, kAvx2, kAvx512 };

Isa DetectIsa() {
  __builtin_cpu_init();
  Isa isa = Isa::kGeneric;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = Isa::kAvx2;
  if (__builtin_cpu_supports("avx512f")) isa = Isa::kAvx512;
  // SDC_KMEANS_ISA=generic|avx2 lowers the choice (to test the portable paths); it never raises it.
  if (const char* env = std::getenv("SDC_KMEANS_ISA")) {
    const std::string v = env;
    if (v == "generic") isa = Isa::kGeneric;
    if (v == "avx2" && isa == Isa::kAvx512) isa = Isa::kAvx2;
  }
  return isa;
}

Isa CurrentIsa() {
  static const Isa isa = DetectIsa();
  return isa;
}

template <int D>
Kernels Kernels512() {
  return {&Tile512<D, false>, &Tile512<D, true>, 16};
}

Kernels SelectKernels(size_t d) {
  switch (CurrentIsa()) {
    case Isa::kAvx512:
      switch (d) {
        case 1:
          return Kernels512<1>();
        case 2:
          return Kernels512<2>();
        case 3:
          return Kernels512<3>();
        case 4:
          return Kernels512<4>();
        case 5:
          return Kernels512<5>();
        case 6:
          return Kernels512<6>();
        case 7:
          return Kernels512<7>();
        case 8:
          return Kernels512<8>();
        case 9:
          return Kernels512<9>();
        case 10:
          return Kernels512<10>();
        case 11:
          return Kernels512<11>();
        case 12:
          return Kernels512<12>();
        case 13:
          return Kernels512<13>();
        case 14:
          return Kernels512<14>();
        case 15:
          return Kernels512<15>();
        case 16:
          return Kernels512<16>();
        default:
          return Kernels512<0>();
      }
    case Isa::kAvx2:
      return {&Tile256<false>, &Tile256<true>, 8};
    case Isa::kGeneric:
      break;
  }
  return {&TileGeneric<false>, &TileGeneric<true>, 16};
}

void AllDist(const float* xc, const ByDim& p, float* q) {
  if (CurrentIsa() == Isa::kAvx512)
    AllDist512(xc, p, q);
  else
    AllDistGeneric(xc, p, q);
}
#else
Kernels SelectKernels(size_t) { return {&TileGeneric<false>, &TileGeneric<true>, 16}; }
void AllDist(const float* xc, const ByDim& p, float* q) { AllDistGeneric(xc, p, q); }
#endif
// ---------------------------------------------------------------------------------------------------------
// Scans. A tile holds `lanes` points; unused lanes repeat the last point.
struct ScanCtx {
  const float* x = nullptr;  // points, n x d
  size_t d = 0;
  const float* centroids = nullptr;  // k x d, row-major
  size_t k = 0;
  const ByDim* bydim = nullptr;  // the centroids by dimension (pruned passes only)
  Kernels kern;
  uint32_t* assign = nullptr;
  float* dist2 = nullptr;  // optional: exact squared distance to the chosen centroid
};

// Fills the tile with the points rows[0, np) (by dimension), padding with the last one.
inline void FillTile(const ScanCtx& cx, const float* const* rows, size_t np, float* xt) {
  const size_t d = cx.d, lanes = cx.kern.lanes;
  for (size_t l = 0; l < lanes; ++l) {
    const float* xi = rows[std::min(l, np - 1)];
    for (size_t t = 0; t < d; ++t) xt[t * lanes + l] = xi[t];
  }
}

// Full scans of the points [first, first + cnt).
void ScanPoints(const ScanCtx& cx, size_t first, size_t cnt) {
  const size_t d = cx.d, lanes = cx.kern.lanes;
  std::vector<float> xt(lanes * d);
  const float* rows[kLanes];
  uint32_t bi[kLanes];
  for (size_t s = 0; s < cnt; s += lanes) {
    const size_t np = std::min(lanes, cnt - s);
    for (size_t p = 0; p < np; ++p) rows[p] = cx.x + (first + s + p) * d;
    FillTile(cx, rows, np, xt.data());
    cx.kern.all(xt.data(), d, cx.centroids, nullptr, cx.k, bi);
    for (size_t p = 0; p < np; ++p) {
      const size_t i = first + s + p;
      cx.assign[i] = bi[p];
      if (cx.dist2) cx.dist2[i] = static_cast<float>(Dist2(cx.x + i * d, cx.centroids + bi[p] * d, d));
    }
  }
}

void ScanAll(const ScanCtx& cx, size_t n) {
  const int64_t items = static_cast<int64_t>((n + kGroup - 1) / kGroup);
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t it = 0; it < items; ++it) {
    const size_t first = static_cast<size_t>(it) * kGroup;
    ScanPoints(cx, first, std::min(kGroup, n - first));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pruned reassignment after an update. For a point x of cluster a with u = |x - c_a|, every centroid at
// most as near as c_a lies within 2u of c_a (triangle inequality). Per cluster, the members are sorted by u
// (coarsely) and cut into tiles; consecutive tiles form rings (single tiles first, then growing by 1.25x),
// ring r's bound being 2u of its farthest member. A tile scans, in index order, the centroids whose
// distance from c_a (float, with a margin for its rounding) is within its ring's bound: a superset of what
// each of its points needs, in which the kernel finds the nearest with ties to the lowest index exactly as
// a full scan would. Rings listing more than kListMax of all centroids scan all of them.
constexpr double kListMax = 0.75;
constexpr size_t kUBins = 256;

// Writes to out the indices j (in increasing order) with q[j] <= hi; returns their number. q holds
// blocks * 16 values (padding is +inf, never listed).
size_t ListWithinGeneric(const float* q, size_t blocks, float hi, uint32_t* out) {
  size_t m = 0;
  for (size_t j = 0; j < blocks * kLanes; ++j)
    if (q[j] <= hi) out[m++] = static_cast<uint32_t>(j);
  return m;
}

#ifdef SDC_KMEANS_X86
__attribute__((target("avx512f"))) size_t ListWithin512(const float* q, size_t blocks, float hi, uint32_t* out) {
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

size_t ListWithin(const float* q, size_t blocks, float hi, uint32_t* out) {
  return CurrentIsa() == Isa::kAvx512 ? ListWithin512(q, blocks, hi, out) : ListWithinGeneric(q, blocks, hi, out);
}
#else
size_t ListWithin(const float* q, size_t blocks, float hi, uint32_t* out) {
  return ListWithinGeneric(q, blocks, hi, out);
}
#endif

struct NeighborScratch {
  std::vector<uint64_t> members;  // (bits of u) << 32 | position in the cluster
  std::vector<float> u, q, bound, xt;
  std::vector<size_t> bins;
  std::vector<uint32_t> tile_ring, order;
};

// members: the points of cluster a; rows: their coordinates, contiguous.
void ReassignCluster(const ScanCtx& cx, const uint32_t* members, const float* rows, size_t count, uint32_t a,
                     NeighborScratch& s) {
  const ByDim& bd = *cx.bydim;
  const size_t d = cx.d, k = cx.k, lanes = cx.kern.lanes;
  const float* ca = cx.centroids + static_cast<size_t>(a) * d;
  // Members by u, coarsely: a stable counting sort on u quantised to kUBins levels (exact order within a
  // level does not matter: each ring's bound is the largest u of its members).
  s.u.resize(count);
  float umax = 0;
  for (size_t q = 0; q < count; ++q) {
    s.u[q] = RoundUp(std::sqrt(Dist2(rows + q * d, ca, d)));
    umax = std::max(umax, s.u[q]);
  }
  const double scale = umax > 0 ? kUBins / static_cast<double>(umax) : 0.0;
  auto bin = [&](float u) { return std::min<size_t>(kUBins - 1, static_cast<size_t>(u * scale)); };
  s.bins.assign(kUBins + 1, 0);
  for (size_t q = 0; q < count; ++q) ++s.bins[bin(s.u[q]) + 1];
  for (size_t b = 1; b <= kUBins; ++b) s.bins[b] += s.bins[b - 1];
  s.members.resize(count);
  for (size_t q = 0; q < count; ++q)
    s.members[s.bins[bin(s.u[q])]++] = static_cast<uint64_t>(std::bit_cast<uint32_t>(s.u[q])) << 32 | q;
  auto local = [&](size_t q) { return static_cast<uint32_t>(s.members[q]); };  // position in members / rows
  auto member_u = [&](size_t q) { return std::bit_cast<float>(static_cast<uint32_t>(s.members[q] >> 32)); };

  // The float squared distance from c_a of every centroid within 2u of it is at most limit(u).
  const double margin = 1.0 + 2.0 * RelErr(d);
  auto limit = [&](float u) {
    const double r = 2.0 * static_cast<double>(u);
    return RoundUp(r * r * margin);
  };

  const size_t tiles = (count + lanes - 1) / lanes;
  s.tile_ring.resize(tiles);
  s.bound.clear();
  for (size_t t = 0; t < tiles;) {
    const size_t last = std::min(tiles - 1, t + t / 4);
    for (size_t tt = t; tt <= last; ++tt) s.tile_ring[tt] = static_cast<uint32_t>(s.bound.size());
    float u = 0;
    for (size_t q = t * lanes; q < std::min(count, (last + 1) * lanes); ++q) u = std::max(u, member_u(q));
    s.bound.push_back(limit(u));
    t = last + 1;
  }
  const size_t rings = s.bound.size();  // < 255 (tiles grow by 1.25x per ring)

  // Per ring, the centroids within its bound, in index order; beyond kListMax * k of them, all centroids.
  s.q.resize(bd.blocks * kLanes);
  AllDist(ca, bd, s.q.data());
  const size_t list_max = static_cast<size_t>(kListMax * static_cast<double>(k));
  s.order.resize(bd.blocks * kLanes);
  size_t ring = rings, listed = 0;
  bool all = false;

  s.xt.resize(lanes * d);
  const float* tile_rows[kLanes];
  uint32_t bi[kLanes];
  for (size_t t = 0; t < tiles; ++t) {
    if (!all && s.tile_ring[t] != ring) {
      ring = s.tile_ring[t];
      listed = ListWithin(s.q.data(), bd.blocks, s.bound[ring], s.order.data());
      all = listed > list_max || listed == 0;
    }
    const size_t r0 = t * lanes, np = std::min(lanes, count - r0);
    for (size_t p = 0; p < np; ++p) tile_rows[p] = rows + static_cast<size_t>(local(r0 + p)) * d;
    FillTile(cx, tile_rows, np, s.xt.data());
    if (all)
      cx.kern.all(s.xt.data(), d, cx.centroids, nullptr, k, bi);
    else
      cx.kern.list(s.xt.data(), d, cx.centroids, s.order.data(), listed, bi);
    for (size_t p = 0; p < np; ++p) cx.assign[members[local(r0 + p)]] = bi[p];
  }
}
// ---------------------------------------------------------------------------------------------------------
// Per-cluster statistics of an assignment: members bucketed by cluster in increasing point order, weighted
// sums (double), weighted squared error against `centroids`, and the farthest member (ties: lowest index).
struct ClusterStats {
  std::vector<uint64_t> start;  // k + 1
  std::vector<uint32_t> perm;   // n: point at each grouped position
  std::vector<float> xs, ws;    // the points (and weights, if any) in grouped order: contiguous per cluster
  std::vector<double> sum;      // k * d
  std::vector<double> weight, sse, far_err;
  std::vector<uint32_t> far_point;
};

void BucketByCluster(const float* x, size_t d, std::span<const float> w, std::span<const uint32_t> assign, size_t k,
                     ClusterStats* cs) {
  const size_t n = assign.size();
  // The bucketing is a stable sort by cluster: its result does not depend on how the points are chunked.
  const size_t chunks = std::max<size_t>(1, std::min<size_t>((n + 16383) / 16384, 4 * omp_get_max_threads()));
  std::vector<uint64_t> hist(chunks * k, 0);
  const int64_t nch = static_cast<int64_t>(chunks);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nch; ++c) {
    uint64_t* h = hist.data() + c * k;
    for (size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) ++h[assign[i]];
  }
  cs->start.assign(k + 1, 0);
  uint64_t pos = 0;
  for (size_t j = 0; j < k; ++j) {
    cs->start[j] = pos;
    for (size_t c = 0; c < chunks; ++c) {
      const uint64_t cnt = hist[c * k + j];
      hist[c * k + j] = pos;
      pos += cnt;
    }
  }
  cs->start[k] = pos;
  // Scattering the rows too (sequential reads, one write stream per cluster) lets every later pass read
  // each cluster's points contiguously instead of gathering them.
  cs->perm.resize(n);
  cs->xs.resize(n * d);
  cs->ws.resize(w.size());
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nch; ++c) {
    uint64_t* h = hist.data() + c * k;
    for (size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) {
      const uint64_t q = h[assign[i]]++;
      cs->perm[q] = static_cast<uint32_t>(i);
      std::memcpy(cs->xs.data() + q * d, x + i * d, d * sizeof(float));
      if (!w.empty()) cs->ws[q] = w[i];
    }
  }
}

void AccumulateClusters(size_t d, const float* centroids, size_t k, ClusterStats* cs) {
  cs->sum.assign(k * d, 0.0);
  cs->weight.assign(k, 0.0);
  cs->sse.assign(k, 0.0);
  cs->far_err.assign(k, -1.0);
  cs->far_point.assign(k, 0);
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t jj = 0; jj < static_cast<int64_t>(k); ++jj) {
    const size_t j = static_cast<size_t>(jj);
    double* sum = cs->sum.data() + j * d;
    const float* c = centroids + j * d;
    double W = 0, E = 0, far = -1;
    uint32_t far_i = 0;
    for (uint64_t q = cs->start[j]; q < cs->start[j + 1]; ++q) {
      const float* xi = cs->xs.data() + q * d;
      const double wi = cs->ws.empty() ? 1.0 : static_cast<double>(cs->ws[q]);
      const double e = Dist2(xi, c, d);
      for (size_t t = 0; t < d; ++t) sum[t] += wi * static_cast<double>(xi[t]);
      W += wi;
      E += wi * e;
      if (e > far) far = e, far_i = cs->perm[q];
    }
    cs->weight[j] = W;
    cs->sse[j] = E;
    cs->far_err[j] = far;
    cs->far_point[j] = far_i;
  }
}

double TotalError(const ClusterStats& cs) {
  double e = 0;
  for (double v : cs.sse) e += v;
  return e;
}

// Donor order for re-seeding: clusters of at least two points whose farthest point is not on the centroid,
// by decreasing weighted error (ties: lowest index).
std::vector<uint32_t> Donors(const ClusterStats& cs) {
  std::vector<uint32_t> donors;
  for (size_t j = 0; j < cs.sse.size(); ++j)
    if (cs.far_err[j] > 0 && cs.start[j + 1] - cs.start[j] >= 2) donors.push_back(static_cast<uint32_t>(j));
  std::stable_sort(donors.begin(), donors.end(), [&](uint32_t a, uint32_t b) { return cs.sse[a] > cs.sse[b]; });
  return donors;
}

// ---------------------------------------------------------------------------------------------------------
// Seeding.

inline float Dist2F(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t t = 0; t < d; ++t) {
    const float v = a[t] - b[t];
    s += v * v;
  }
  return s;
}

// k-means++ over a uniform sample of at most kPlusPlusSamplePerCentroid * k points: each next centre is
// drawn with probability proportional to weight * (squared distance to the nearest centre so far).
// Sequential, so the draws cannot depend on threads, and pruned with the triangle inequality: sample
// points are kept in buckets by nearest centre (stored contiguously), sorted by decreasing distance; a
// point at squared distance D from its centre c_b cannot get nearer to a new centre c unless
// |c - c_b|^2 < 4D, so a bucket is visited only down to the first point that fails this.
struct SeedBucket {
  size_t d = 0;
  std::vector<float> x, dmin, w;  // x: size * d
  std::vector<uint32_t> id;       // sample index (for the deterministic order of equal distances)
  double sum = 0;                 // sum of w * dmin, in list order
  size_t size() const { return id.size(); }
  void Push(const float* xi, float dm, float wi, uint32_t i) {
    x.insert(x.end(), xi, xi + d);
    dmin.push_back(dm);
    w.push_back(wi);
    id.push_back(i);
  }
  void Resize(size_t s) {
    x.resize(s * d);
    dmin.resize(s);
    w.resize(s);
    id.resize(s);
  }
  void Shrink() {
    x.shrink_to_fit();
    dmin.shrink_to_fit();
    w.shrink_to_fit();
    id.shrink_to_fit();
  }
  void Sum() {
    sum = 0;
    for (size_t q = 0; q < size(); ++q) sum += static_cast<double>(w[q]) * dmin[q];
  }
  // Sorts by decreasing dmin, then increasing sample index.
  void Sort() {
    std::vector<uint32_t> perm(size());
    for (size_t q = 0; q < perm.size(); ++q) perm[q] = static_cast<uint32_t>(q);
    std::sort(perm.begin(), perm.end(),
              [&](uint32_t a, uint32_t b) { return dmin[a] > dmin[b] || (dmin[a] == dmin[b] && id[a] < id[b]); });
    SeedBucket s;
    s.d = d;
    s.x.resize(x.size());
    s.dmin.resize(size());
    s.w.resize(size());
    s.id.resize(size());
    for (size_t q = 0; q < perm.size(); ++q) {
      std::memcpy(s.x.data() + q * d, x.data() + static_cast<size_t>(perm[q]) * d, d * sizeof(float));
      s.dmin[q] = dmin[perm[q]];
      s.w[q] = w[perm[q]];
      s.id[q] = id[perm[q]];
    }
    x.swap(s.x);
    dmin.swap(s.dmin);
    w.swap(s.w);
    id.swap(s.id);
  }
};

void SeedPlusPlus(const float* x, size_t n, size_t d, std::span<const float> w, size_t k, Rng& rng,
                  std::vector<float>* centroids) {
  const std::vector<uint32_t> sample = SampleIndices(n, std::min(n, kPlusPlusSamplePerCentroid * k), rng);
  const size_t m = sample.size();
  std::vector<SeedBucket> buckets;
  buckets.reserve(k);
  std::vector<float> cbyd(d * k);           // centres by dimension, for the centre-to-centre distances
  std::vector<float> cc(k), c(d), maxd(k);  // maxd: a bucket's largest dmin (-1 when empty)
  centroids->assign(k * d, 0.0f);

  // First centre: proportional to the weights.
  size_t first = m - 1;
  {
    double total = 0;
    for (size_t i = 0; i < m; ++i) total += w.empty() ? 1.0 : w[sample[i]];
    const double r = rng.Uniform() * total;
    double run = 0;
    for (size_t i = 0; i < m; ++i) {
      const float wi = w.empty() ? 1.0f : w[sample[i]];
      run += wi;
      if (wi > 0 && run > r) {
        first = i;
        break;
      }
    }
  }
  std::memcpy(c.data(), x + static_cast<size_t>(sample[first]) * d, d * sizeof(float));
  for (size_t j = 0;; ++j) {
    std::memcpy(centroids->data() + j * d, c.data(), d * sizeof(float));
    for (size_t t = 0; t < d; ++t) cbyd[t * k + j] = c[t];
    SeedBucket nb;
    nb.d = d;
    if (j == 0) {
      for (size_t i = 0; i < m; ++i) {
        const float* xi = x + static_cast<size_t>(sample[i]) * d;
        nb.Push(xi, Dist2F(xi, c.data(), d), w.empty() ? 1.0f : w[sample[i]], static_cast<uint32_t>(i));
      }
    } else {
      std::fill(cc.begin(), cc.begin() + j, 0.0f);
      for (size_t t = 0; t < d; ++t) {
        const float* ct = cbyd.data() + t * k;
        for (size_t b = 0; b < j; ++b) {
          const float v = ct[b] - c[t];
          cc[b] += v * v;
        }
      }
      for (size_t b = 0; b < j; ++b) {
        // A point with dmin <= |c - c_b|^2 / 4 cannot move (margin for the float rounding).
        const float lim = static_cast<float>(static_cast<double>(cc[b]) * (0.25 * (1.0 - 1e-5)));
        if (maxd[b] <= lim) continue;
        SeedBucket& bk = buckets[b];
        size_t q = 0, kept = 0;
        for (; q < bk.size() && bk.dmin[q] > lim; ++q) {
          const float* xq = bk.x.data() + q * d;
          const float e = Dist2F(xq, c.data(), d);
          if (e < bk.dmin[q]) {
            nb.Push(xq, e, bk.w[q], bk.id[q]);
          } else {
            if (kept != q) {
              std::memmove(bk.x.data() + kept * d, xq, d * sizeof(float));
              bk.dmin[kept] = bk.dmin[q];
              bk.w[kept] = bk.w[q];
              bk.id[kept] = bk.id[q];
            }
            ++kept;
          }
        }
        if (kept == q) continue;  // nothing moved
        const size_t tail = bk.size() - q;
        std::memmove(bk.x.data() + kept * d, bk.x.data() + q * d, tail * d * sizeof(float));
        std::memmove(bk.dmin.data() + kept, bk.dmin.data() + q, tail * sizeof(float));
        std::memmove(bk.w.data() + kept, bk.w.data() + q, tail * sizeof(float));
        std::memmove(bk.id.data() + kept, bk.id.data() + q, tail * sizeof(uint32_t));
        bk.Resize(kept + tail);
        if (bk.size() < bk.id.capacity() / 4) bk.Shrink();
        bk.Sum();
        maxd[b] = bk.size() ? bk.dmin[0] : -1.0f;
      }
    }
    nb.Sort();
    nb.Sum();
    maxd[j] = nb.size() ? nb.dmin[0] : -1.0f;
    buckets.push_back(std::move(nb));
    if (j + 1 == k) break;

    // Next centre: bucket by bucket, then point by point within the bucket.
    double total = 0;
    for (const SeedBucket& b : buckets) total += b.sum;
    if (!(total > 0)) {  // every sample point is already a centre
      std::memcpy(c.data(), x + static_cast<size_t>(sample[rng.Below(m)]) * d, d * sizeof(float));
      continue;
    }
    double r = rng.Uniform() * total;
    size_t b = 0, blast = buckets.size() - 1;
    while (!(buckets[blast].sum > 0)) --blast;
    while (b < blast && r >= buckets[b].sum) r -= buckets[b++].sum;
    const SeedBucket& bk = buckets[b];
    double run = 0;
    size_t pick = 0;
    for (size_t q = 0; q < bk.size(); ++q) {
      const double p = static_cast<double>(bk.w[q]) * bk.dmin[q];
      if (p <= 0) continue;
      pick = q;
      run += p;
      if (run > r) break;
    }
    std::memcpy(c.data(), bk.x.data() + pick * d, d * sizeof(float));
  }
}

void SeedRandom(const float* x, size_t n, size_t d, size_t k, Rng& rng, std::vector<float>* centroids) {
  const std::vector<uint32_t> pick = SampleIndices(n, k, rng);
  centroids->resize(k * d);
  for (size_t j = 0; j < k; ++j)
    std::memcpy(centroids->data() + j * d, x + static_cast<size_t>(pick[j]) * d, d * sizeof(float));
}

// ---------------------------------------------------------------------------------------------------------


// After the last assignment: every empty cluster takes the farthest point of a different donor (the rule of
// the iterations), then every point is assigned again by a full scan; repeated while that leaves a cluster
// empty and donors remain (a few rounds at most: a re-seeded centroid sits on a point no other centroid
// holds, so it keeps at least that point).
void FillEmptyClusters(const ScanCtx& cx, size_t n, std::span<const float> w, std::vector<float>* centroids,
                       std::vector<uint32_t>* assign, ClusterStats* cs) {
  const size_t d = cx.d, k = cx.k;
  for (int round = 0; round < 16; ++round) {
    std::vector<uint32_t> donors;
    bool have_donors = false, filled = false;
    size_t used = 0;
    for (size_t j = 0; j < k; ++j) {
      if (cs->start[j] != cs->start[j + 1]) continue;
      if (!have_donors) donors = Donors(*cs), have_donors = true;
      if (used >= donors.size()) break;
      const uint32_t p = cs->far_point[donors[used++]];
      std::memcpy(centroids->data() + j * d, cx.x + static_cast<size_t>(p) * d, d * sizeof(float));
      filled = true;
    }
    if (!filled) return;
    ScanAll(cx, n);
    BucketByCluster(cx.x, d, w, *assign, k, cs);
    AccumulateClusters(d, centroids->data(), k, cs);
  }
}

}  // namespace

Status KMeansCheckInput(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                  double* total_weight) {
  SDC_CHECK(d >= 1, StatusCode::kInvalidArgument, "kmeans: dimension must be at least 1");
  SDC_CHECK(x.size() % d == 0, StatusCode::kInvalidArgument, "kmeans: data size is not a multiple of the dimension");
  const size_t n = x.size() / d;
  SDC_CHECK(n >= 1, StatusCode::kInvalidArgument, "kmeans: no points");
  SDC_CHECK(n <= std::numeric_limits<uint32_t>::max(), StatusCode::kInvalidArgument, "kmeans: more than 2^32-1 points");
  SDC_CHECK(opt.k >= 1, StatusCode::kInvalidArgument, "kmeans: k must be at least 1");
  SDC_CHECK(opt.iterations >= 0, StatusCode::kInvalidArgument, "kmeans: iterations must be non-negative");
  SDC_CHECK(weights.empty() || weights.size() == n, StatusCode::kInvalidArgument,
            "kmeans: weights must be empty or one per point");
  bool finite = true;
  const int64_t nx = static_cast<int64_t>(x.size());
#pragma omp parallel for schedule(static) reduction(&& : finite)
  for (int64_t i = 0; i < nx; ++i) finite = finite && std::isfinite(x[i]);
  SDC_CHECK(finite, StatusCode::kInvalidArgument, "kmeans: data holds a non-finite value");
  double total = 0;
  for (float v : weights) {
    SDC_CHECK(std::isfinite(v) && v >= 0, StatusCode::kInvalidArgument,
              "kmeans: weights must be finite and non-negative");
    total += v;
  }
  if (weights.empty()) total = static_cast<double>(n);
  SDC_CHECK(total > 0, StatusCode::kInvalidArgument, "kmeans: weights sum to zero");
  *total_weight = total;
  return Status::Ok();
}

void AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids, std::span<uint32_t> assign,
                   std::span<float> dist2) {
  if (d == 0) return;
  const size_t n = x.size() / d, k = centroids.size() / d;
  if (k == 0) {
    std::fill(assign.begin(), assign.end(), 0u);
    std::fill(dist2.begin(), dist2.end(), kInf);
    return;
  }
  ScanCtx cx;
  cx.x = x.data();
  cx.d = d;
  cx.centroids = centroids.data();
  cx.k = k;
  cx.kern = SelectKernels(d);
  cx.assign = assign.data();
  cx.dist2 = dist2.empty() ? nullptr : dist2.data();
  ScanAll(cx, n);
}

void KMeansSeeds(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                 std::vector<float>* centroids) {
  Rng rng{opt.seed};
  const size_t n = x.size() / d, k = static_cast<size_t>(opt.k);
  if (opt.init == KMeansOptions::Init::kPlusPlus)
    SeedPlusPlus(x.data(), n, d, weights, k, rng, centroids);
  else
    SeedRandom(x.data(), n, d, k, rng, centroids);
}

Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
              KMeansResult* out) {
  double total_weight = 0;
  SDC_RETURN_IF_ERROR(KMeansCheckInput(x, d, weights, opt, &total_weight));
  const size_t n = x.size() / d, k = static_cast<size_t>(opt.k);
  const double norm = 1.0 / (total_weight * static_cast<double>(d));
  const float* xp = x.data();
  KMeansResult r;
  r.assign.resize(n);
  ClusterStats cs;

  if (k >= n) {
    // Every point is its own centroid (duplicates go to the first copy); the remaining centroids are zero.
    r.centroids.assign(k * d, 0.0f);
    std::copy(x.begin(), x.end(), r.centroids.begin());
    AssignNearest(x, d, std::span<const float>(r.centroids.data(), n * d), r.assign, {});
    BucketByCluster(xp, d, weights, r.assign, k, &cs);
    AccumulateClusters(d, r.centroids.data(), k, &cs);
    r.mse = TotalError(cs) * norm;
    if (opt.progress) opt.progress(0, r.mse);
    *out = std::move(r);
    return Status::Ok();
  }

  std::vector<float> c;
  KMeansSeeds(x, d, weights, opt, &c);

  ByDim bydim;
  ScanCtx cx;
  cx.x = xp;
  cx.d = d;
  cx.centroids = c.data();
  cx.k = k;
  cx.bydim = &bydim;
  cx.kern = SelectKernels(d);
  cx.assign = r.assign.data();
  ScanAll(cx, n);

  std::vector<float> next(k * d);
  for (int it = 0;; ++it) {
    BucketByCluster(xp, d, weights, r.assign, k, &cs);
    AccumulateClusters(d, c.data(), k, &cs);
    if (it == opt.iterations) {
      FillEmptyClusters(cx, n, weights, &c, &r.assign, &cs);
      r.mse = TotalError(cs) * norm;
      r.iterations_run = it;
      if (opt.progress) opt.progress(it, r.mse);
      break;
    }
    const double mse = TotalError(cs) * norm;
    if (opt.progress) opt.progress(it, mse);

    // Update: weighted means; empty clusters re-seeded from the worst points of the worst clusters.
    for (size_t j = 0; j < k; ++j)
      for (size_t t = 0; t < d; ++t)
        next[j * d + t] = cs.weight[j] > 0 ? static_cast<float>(cs.sum[j * d + t] / cs.weight[j]) : c[j * d + t];
    bool reseeded = false, have_donors = false;
    std::vector<uint32_t> donors;
    size_t used = 0;
    for (size_t j = 0; j < k; ++j) {
      if (cs.start[j] != cs.start[j + 1]) continue;
      if (!have_donors) donors = Donors(cs), have_donors = true;
      if (used >= donors.size()) break;  // not enough donors: the rest keep their centroid this time
      const uint32_t p = cs.far_point[donors[used++]];
      std::memcpy(next.data() + j * d, xp + static_cast<size_t>(p) * d, d * sizeof(float));
      reseeded = true;
    }
    if (!reseeded && std::memcmp(next.data(), c.data(), k * d * sizeof(float)) == 0) {
      // A fixed point: further iterations would repeat this one exactly, and the last progress call
      // already reported the result (no cluster is empty unless no donor exists).
      r.mse = mse;
      r.iterations_run = it;
      break;
    }
    c.swap(next);
    cx.centroids = c.data();
    MakeByDim(c.data(), k, d, &bydim);
#pragma omp parallel
    {
      NeighborScratch s;
#pragma omp for schedule(dynamic, 1)
      for (int64_t jj = 0; jj < static_cast<int64_t>(k); ++jj) {
        const size_t j = static_cast<size_t>(jj);
        const size_t count = cs.start[j + 1] - cs.start[j];
        if (count > 0)
          ReassignCluster(cx, cs.perm.data() + cs.start[j], cs.xs.data() + cs.start[j] * d, count,
                          static_cast<uint32_t>(j), s);
      }
    }
  }
  r.centroids = std::move(c);
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace sdc
