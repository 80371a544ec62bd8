#include "encoder/enc_kmeans.h"

#include <omp.h>

#include <algorithm>
#include <cstdio>
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

constexpr size_t kLanes = 16;        // centroids per packed block (one AVX-512 register)
constexpr int kMaxTile = 8;          // points per kernel call, at most
constexpr size_t kGroup = 512;       // points per parallel work item of a full scan
constexpr size_t kSeedChunk = 2048;  // sample points per work item of k-means++ seeding
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
// Centroids as the distance kernels read them: blocks of 16 centroids, a block laid out as
// [|c'|^2 x16][-2c'_0 x16]...[-2c'_{d-1} x16] with c' = c - offset. Padding lanes hold |c'|^2 = +inf and
// zero coordinates, so they never win. The kernels compute q = |c'|^2 - 2 x'.c' (x' = x - offset): the
// squared distance is |x'|^2 + q.
struct Packed {
  size_t d = 0, k = 0, blocks = 0;
  std::vector<float> data;
  std::vector<float> offset;  // d
  double cmax2 = 0;           // max |c'|^2, for the rounding slack of q
  size_t stride() const { return (d + 1) * kLanes; }
  const float* block(size_t b) const { return data.data() + b * stride(); }
};

void Pack(const float* c, size_t k, size_t d, std::span<const float> offset, Packed* p) {
  p->d = d;
  p->k = k;
  p->blocks = (k + kLanes - 1) / kLanes;
  p->offset.assign(offset.begin(), offset.end());
  const size_t stride = p->stride();
  p->data.assign(p->blocks * stride, 0.0f);
  double cmax2 = 0;
  for (size_t j = 0; j < p->blocks * kLanes; ++j) {
    float* blk = p->data.data() + (j / kLanes) * stride;
    const size_t lane = j % kLanes;
    if (j >= k) {
      blk[lane] = kInf;
      continue;
    }
    double n2 = 0;
    for (size_t t = 0; t < d; ++t) {
      const float v = c[j * d + t] - offset[t];
      n2 += static_cast<double>(v) * v;
      blk[(t + 1) * kLanes + lane] = -2.0f * v;
    }
    blk[lane] = static_cast<float>(n2);
    cmax2 = std::max(cmax2, n2);
  }
  p->cmax2 = cmax2;
}

// Bound on |(|x'|^2 + q) - |x - c|^2| from the rounding of the centring, of the float FMA (or multiply-add)
// chain and of |c'|^2. Generous: it only costs a little pruning.
inline double Slack(size_t d, double x2, double cmax2) { return static_cast<double>(d + 8) * 0x1.0p-21 * (x2 + cmax2); }

// ---------------------------------------------------------------------------------------------------------
// Kernels: for each of `tile` points (xt: centred, tile x d) and `blocks` packed blocks, the packed slot
// with the least q (ties: lowest slot), that q, and the second least q (kSecond).
using ScanFn = void (*)(const float* xt, size_t d, const float* pack, size_t blocks, uint32_t* idx, float* best,
                        float* second);
struct Kernel {
  ScanFn fn;
  int tile;
};

// Lane results -> argmin (lowest index among equal values) and second least value.
inline void ReduceLanes(const float* bv, const float* sv, const uint32_t* bi, size_t lanes, bool second,
                        uint32_t* idx, float* best, float* sec) {
  float b = bv[0];
  uint32_t bj = bi[0] * static_cast<uint32_t>(lanes);
  size_t bl = 0;
  for (size_t l = 1; l < lanes; ++l) {
    const uint32_t j = bi[l] * static_cast<uint32_t>(lanes) + static_cast<uint32_t>(l);
    if (bv[l] < b || (bv[l] == b && j < bj)) b = bv[l], bj = j, bl = l;
  }
  *idx = bj;
  *best = b;
  if (second) {
    float s = kInf;
    for (size_t l = 0; l < lanes; ++l) {
      s = std::min(s, sv[l]);
      if (l != bl) s = std::min(s, bv[l]);
    }
    *sec = s;
  }
}

template <int P, bool kSecond>
void ScanGeneric(const float* xt, size_t d, const float* pack, size_t blocks, uint32_t* idx, float* best,
                 float* second) {
  const size_t stride = (d + 1) * kLanes;
  for (int p = 0; p < P; ++p) {
    float bv[kLanes], sv[kLanes];
    uint32_t bi[kLanes];
    std::fill(bv, bv + kLanes, kInf);
    std::fill(sv, sv + kLanes, kInf);
    std::fill(bi, bi + kLanes, 0u);
    const float* x = xt + p * d;
    for (size_t b = 0; b < blocks; ++b) {
      const float* blk = pack + b * stride;
      float acc[kLanes];
      for (size_t l = 0; l < kLanes; ++l) acc[l] = blk[l];
      for (size_t t = 0; t < d; ++t)
        for (size_t l = 0; l < kLanes; ++l) acc[l] = acc[l] + x[t] * blk[(t + 1) * kLanes + l];
      for (size_t l = 0; l < kLanes; ++l) {
        if (kSecond) sv[l] = std::min(sv[l], std::max(acc[l], bv[l]));
        if (acc[l] < bv[l]) bv[l] = acc[l], bi[l] = static_cast<uint32_t>(b);
      }
    }
    ReduceLanes(bv, sv, bi, kLanes, kSecond, idx + p, best + p, second + p);
  }
}

#ifdef SDC_KMEANS_X86
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_*(), which -W(maybe-)uninitialized reports
// (GCC PR 105593): a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
// AVX-512: per block, the d+1 centroid rows stay in registers and each of the P points costs d FMAs
// (x broadcast), a compare, a min and a masked index move (+ a max and a min for the second least).
template <int D, int P, bool kSecond>
__attribute__((target("avx512f"))) void ScanAvx512(const float* xt, size_t d_rt, const float* pack, size_t blocks,
                                                   uint32_t* idx, float* best, float* second) {
  const size_t d = D > 0 ? static_cast<size_t>(D) : d_rt;
  const size_t stride = (d + 1) * kLanes;
  __m512 bv[P], sv[P];
  __m512i bi[P];
  for (int p = 0; p < P; ++p) {
    bv[p] = _mm512_set1_ps(kInf);
    sv[p] = bv[p];
    bi[p] = _mm512_setzero_si512();
  }
  __m512i blk = _mm512_setzero_si512();
  const __m512i one = _mm512_set1_epi32(1);
  for (size_t b = 0; b < blocks; ++b, pack += stride) {
    __m512 acc[P];
    if constexpr (D > 0) {
      __m512 c[D];
      for (int t = 0; t < D; ++t) c[t] = _mm512_loadu_ps(pack + (t + 1) * kLanes);
      const __m512 cn = _mm512_loadu_ps(pack);
      for (int p = 0; p < P; ++p) {
        __m512 a = cn;
        for (int t = 0; t < D; ++t) a = _mm512_fmadd_ps(_mm512_set1_ps(xt[p * D + t]), c[t], a);
        acc[p] = a;
      }
    } else {
      for (int p = 0; p < P; ++p) acc[p] = _mm512_loadu_ps(pack);
      for (size_t t = 0; t < d; ++t) {
        const __m512 c = _mm512_loadu_ps(pack + (t + 1) * kLanes);
        for (int p = 0; p < P; ++p) acc[p] = _mm512_fmadd_ps(_mm512_set1_ps(xt[p * d + t]), c, acc[p]);
      }
    }
    for (int p = 0; p < P; ++p) {
      const __mmask16 m = _mm512_cmp_ps_mask(acc[p], bv[p], _CMP_LT_OQ);
      if constexpr (kSecond) sv[p] = _mm512_min_ps(sv[p], _mm512_max_ps(acc[p], bv[p]));
      bv[p] = _mm512_min_ps(bv[p], acc[p]);
      bi[p] = _mm512_mask_mov_epi32(bi[p], m, blk);
    }
    blk = _mm512_add_epi32(blk, one);
  }
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  for (int p = 0; p < P; ++p) {
    const float m = _mm512_reduce_min_ps(bv[p]);
    const __mmask16 eq = _mm512_cmp_ps_mask(bv[p], _mm512_set1_ps(m), _CMP_EQ_OQ);
    const uint32_t j = _mm512_mask_reduce_min_epu32(eq, _mm512_add_epi32(_mm512_slli_epi32(bi[p], 4), lane));
    idx[p] = j;
    best[p] = m;
    if constexpr (kSecond) {
      const __m512 others = _mm512_mask_mov_ps(bv[p], static_cast<__mmask16>(1u << (j % kLanes)), _mm512_set1_ps(kInf));
      second[p] = std::min(_mm512_reduce_min_ps(sv[p]), _mm512_reduce_min_ps(others));
    }
  }
}

// AVX2 + FMA: the same over half-blocks of 8 centroids (slot = half-block * 8 + lane).
template <int D, int P, bool kSecond>
__attribute__((target("avx2,fma"))) void ScanAvx2(const float* xt, size_t d_rt, const float* pack, size_t blocks,
                                                  uint32_t* idx, float* best, float* second) {
  const size_t d = D > 0 ? static_cast<size_t>(D) : d_rt;
  const size_t stride = (d + 1) * kLanes;
  __m256 bv[P], sv[P];
  __m256i bi[P];
  for (int p = 0; p < P; ++p) {
    bv[p] = _mm256_set1_ps(kInf);
    sv[p] = bv[p];
    bi[p] = _mm256_setzero_si256();
  }
  __m256i blk = _mm256_setzero_si256();
  const __m256i one = _mm256_set1_epi32(1);
  for (size_t h = 0; h < 2 * blocks; ++h) {
    const float* base = pack + (h / 2) * stride + (h % 2) * 8;
    __m256 acc[P];
    for (int p = 0; p < P; ++p) acc[p] = _mm256_loadu_ps(base);
    for (size_t t = 0; t < d; ++t) {
      const __m256 c = _mm256_loadu_ps(base + (t + 1) * kLanes);
      for (int p = 0; p < P; ++p) acc[p] = _mm256_fmadd_ps(_mm256_set1_ps(xt[p * d + t]), c, acc[p]);
    }
    for (int p = 0; p < P; ++p) {
      const __m256 m = _mm256_cmp_ps(acc[p], bv[p], _CMP_LT_OQ);
      if constexpr (kSecond) sv[p] = _mm256_min_ps(sv[p], _mm256_max_ps(acc[p], bv[p]));
      bv[p] = _mm256_min_ps(bv[p], acc[p]);
      bi[p] = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi[p]), _mm256_castsi256_ps(blk), m));
    }
    blk = _mm256_add_epi32(blk, one);
  }
  for (int p = 0; p < P; ++p) {
    alignas(32) float b[8], s[8];
    alignas(32) uint32_t i[8];
    _mm256_store_ps(b, bv[p]);
    _mm256_store_ps(s, sv[p]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(i), bi[p]);
    ReduceLanes(b, s, i, 8, kSecond, idx + p, best + p, second + p);
  }
}
#pragma GCC diagnostic pop

template <int D, bool kSecond>
Kernel Avx512Kernel() {
  // Tiles keep the d + 1 centroid rows and 2-3 state registers per point within the 32 zmm registers.
  constexpr int P = D == 0 ? 6 : D <= 4 ? 8 : D <= 8 ? 6 : D <= 12 ? 4 : 3;
  return {&ScanAvx512<D, P, kSecond>, P};
}
template <int D, bool kSecond>
Kernel Avx2Kernel() {
  constexpr int P = D <= 4 && D > 0 ? 3 : 2;
  return {&ScanAvx2<D, P, kSecond>, P};
}

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

template <bool kSecond>
Kernel SelectKernel(size_t d) {
  static const Isa isa = DetectIsa();
#define SDC_KM_CASE(D) \
  case D:              \
    return isa == Isa::kAvx512 ? Avx512Kernel<D, kSecond>() : Avx2Kernel<D, kSecond>();
  if (isa != Isa::kGeneric) {
    switch (d) {
      SDC_KM_CASE(1) SDC_KM_CASE(2) SDC_KM_CASE(3) SDC_KM_CASE(4) SDC_KM_CASE(5) SDC_KM_CASE(6)
      SDC_KM_CASE(7) SDC_KM_CASE(8) SDC_KM_CASE(9) SDC_KM_CASE(10) SDC_KM_CASE(11) SDC_KM_CASE(12)
      SDC_KM_CASE(13) SDC_KM_CASE(14) SDC_KM_CASE(15) SDC_KM_CASE(16)
      default:
        return isa == Isa::kAvx512 ? Avx512Kernel<0, kSecond>() : Avx2Kernel<0, kSecond>();
    }
  }
#undef SDC_KM_CASE
  return {&ScanGeneric<4, kSecond>, 4};
}
#else
template <bool kSecond>
Kernel SelectKernel(size_t) {
  return {&ScanGeneric<4, kSecond>, 4};
}
#endif

// ---------------------------------------------------------------------------------------------------------
// Full scans: every centroid, for a list of points.
struct ScanCtx {
  const float* x = nullptr;  // points, n x d
  size_t d = 0;
  const float* centroids = nullptr;  // k x d, row-major (exact distances)
  const Packed* pack = nullptr;
  Kernel kern{};
  uint32_t* assign = nullptr;
  float* dist2 = nullptr;  // optional: exact squared distance to the chosen centroid
};

// Points ids[0, cnt) (or first + [0, cnt) when ids is null).
void ScanPoints(const ScanCtx& cx, const uint32_t* ids, size_t first, size_t cnt) {
  const size_t d = cx.d;
  const int P = cx.kern.tile;
  std::vector<float> tile(static_cast<size_t>(P) * d);
  uint32_t bi[kMaxTile];
  float bq[kMaxTile], sq[kMaxTile];
  const float* off = cx.pack->offset.data();
  for (size_t s = 0; s < cnt; s += P) {
    const size_t np = std::min<size_t>(P, cnt - s);
    for (int p = 0; p < P; ++p) {
      const size_t q = s + std::min<size_t>(p, np - 1);  // pad with the last point
      const float* xi = cx.x + (ids ? ids[q] : first + q) * d;
      for (size_t t = 0; t < d; ++t) tile[p * d + t] = xi[t] - off[t];
    }
    cx.kern.fn(tile.data(), d, cx.pack->data.data(), cx.pack->blocks, bi, bq, sq);
    for (size_t p = 0; p < np; ++p) {
      const size_t i = ids ? ids[s + p] : first + s + p;
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
    ScanPoints(cx, nullptr, first, std::min(kGroup, n - first));
  }
}

// q = |c'|^2 - 2 x'.c' of one centred point against every packed centroid (q has blocks * 16 entries).
#ifdef SDC_KMEANS_X86
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void AllQ(const float* xc, const Packed& pk, float* q) {
  const size_t d = pk.d;
  for (size_t b = 0; b < pk.blocks; ++b) {
    const float* blk = pk.block(b);
    float acc[kLanes];
    for (size_t l = 0; l < kLanes; ++l) acc[l] = blk[l];
    for (size_t t = 0; t < d; ++t)
      for (size_t l = 0; l < kLanes; ++l) acc[l] = acc[l] + xc[t] * blk[(t + 1) * kLanes + l];
    for (size_t l = 0; l < kLanes; ++l) q[b * kLanes + l] = acc[l];
  }
}

// ---------------------------------------------------------------------------------------------------------
// Pruned reassignment. For a point x of cluster a, u = |x - c_a| after the update, every centroid at most as
// near as c_a lies within 2u of c_a (triangle inequality). Per cluster, the centroids within 2 max(u) of c_a
// are packed in order of distance from c_a; the members, sorted by u, are scanned in tiles against the
// prefix within 2 max(u over the tile). Distances between centroids come from the same q arithmetic,
// lowered by the rounding slack, so the prefix is a superset of what each point needs. A tile's argmin is
// the lowest packed slot among equal q, which is not the lowest index: a point whose two least q are equal
// is rescanned against every centroid.
struct NeighborScratch {
  std::vector<std::pair<float, uint32_t>> members;  // (u, point)
  std::vector<std::pair<float, uint32_t>> cand;     // (q from c_a, centroid)
  std::vector<float> q, pack, tile, centred;
  std::vector<uint32_t> fallback;
};

void ReassignCluster(const ScanCtx& cx, const uint32_t* members, size_t count, uint32_t a, NeighborScratch& s) {
  const Packed& pk = *cx.pack;
  const size_t d = cx.d, stride = pk.stride();
  const int P = cx.kern.tile;
  const float* ca = cx.centroids + static_cast<size_t>(a) * d;
  s.members.resize(count);
  float umax = 0;
  for (size_t q = 0; q < count; ++q) {
    const uint32_t i = members[q];
    const float u = RoundUp(std::sqrt(Dist2(cx.x + static_cast<size_t>(i) * d, ca, d)));
    s.members[q] = {u, i};
    umax = std::max(umax, u);
  }
  std::sort(s.members.begin(), s.members.end());

  // Candidates: centroids c with lower bound on |c - c_a| <= 2 umax, i.e.
  // |c_a'|^2 + q(c) - slack <= (2 umax)^2.
  s.centred.resize(d);
  double a2 = 0;
  for (size_t t = 0; t < d; ++t) {
    s.centred[t] = ca[t] - pk.offset[t];
    a2 += static_cast<double>(s.centred[t]) * s.centred[t];
  }
  const double slack = Slack(d, a2, pk.cmax2);
  auto limit = [&](float u) {  // q threshold for points with distance u from c_a
    const double r = 2.0 * static_cast<double>(u) * (1.0 + 0x1.0p-20);
    return r * r - a2 + slack;
  };
  s.q.resize(pk.blocks * kLanes);
  AllQ(s.centred.data(), pk, s.q.data());
  const double qmax = limit(umax);
  s.cand.clear();
  for (size_t j = 0; j < pk.k; ++j)
    if (static_cast<double>(s.q[j]) <= qmax) s.cand.push_back({s.q[j], static_cast<uint32_t>(j)});
  std::sort(s.cand.begin(), s.cand.end());
  const size_t nc = s.cand.size(), cblocks = (nc + kLanes - 1) / kLanes;
  s.pack.assign(cblocks * stride, 0.0f);
  for (size_t q = 0; q < cblocks * kLanes; ++q) {
    float* blk = s.pack.data() + (q / kLanes) * stride;
    const size_t lane = q % kLanes;
    if (q >= nc) {
      blk[lane] = kInf;
      continue;
    }
    const uint32_t j = s.cand[q].second;
    const float* src = pk.block(j / kLanes);
    for (size_t t = 0; t <= d; ++t) blk[t * kLanes + lane] = src[t * kLanes + j % kLanes];
  }

  s.tile.resize(static_cast<size_t>(P) * d);
  s.fallback.clear();
  uint32_t bi[kMaxTile];
  float bq[kMaxTile], sq[kMaxTile];
  size_t m = 0;  // candidates needed so far (tiles come in increasing u)
  for (size_t r = 0; r < count; r += P) {
    const size_t np = std::min<size_t>(P, count - r);
    const double lim = limit(s.members[r + np - 1].first);
    while (m < nc && static_cast<double>(s.cand[m].first) <= lim) ++m;
    for (int p = 0; p < P; ++p) {
      const float* xi = cx.x + static_cast<size_t>(s.members[r + std::min<size_t>(p, np - 1)].second) * d;
      for (size_t t = 0; t < d; ++t) s.tile[p * d + t] = xi[t] - pk.offset[t];
    }
    cx.kern.fn(s.tile.data(), d, s.pack.data(), (m + kLanes - 1) / kLanes, bi, bq, sq);
    for (size_t p = 0; p < np; ++p) {
      const uint32_t i = s.members[r + p].second;
      if (sq[p] == bq[p] || bi[p] >= nc)
        s.fallback.push_back(i);
      else
        cx.assign[i] = s.cand[bi[p]].second;
    }
  }
  if (!s.fallback.empty()) ScanPoints(cx, s.fallback.data(), 0, s.fallback.size());
}

// ---------------------------------------------------------------------------------------------------------
// Per-cluster statistics of an assignment: members bucketed by cluster in increasing point order, weighted
// sums (double), weighted squared error against `centroids`, and the member of largest weighted error.
struct ClusterStats {
  std::vector<uint64_t> start;  // k + 1
  std::vector<uint32_t> perm;   // n
  std::vector<double> sum;      // k * d
  std::vector<double> weight, sse, far_err;
  std::vector<uint32_t> far_point;
};

void BucketByCluster(std::span<const uint32_t> assign, size_t k, ClusterStats* cs) {
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
  cs->perm.resize(n);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nch; ++c) {
    uint64_t* h = hist.data() + c * k;
    for (size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) cs->perm[h[assign[i]]++] = static_cast<uint32_t>(i);
  }
}

void AccumulateClusters(const float* x, size_t d, std::span<const float> w, const float* centroids, size_t k,
                        ClusterStats* cs) {
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
      const uint32_t i = cs->perm[q];
      const float* xi = x + static_cast<size_t>(i) * d;
      const double wi = w.empty() ? 1.0 : static_cast<double>(w[i]);
      const double e = Dist2(xi, c, d);
      for (size_t t = 0; t < d; ++t) sum[t] += wi * static_cast<double>(xi[t]);
      W += wi;
      E += wi * e;
      if (wi * e > far) far = wi * e, far_i = i;
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

// Donor order for re-seeding: clusters whose worst point has positive weighted error, by decreasing
// cluster error (ties: lowest index).
std::vector<uint32_t> Donors(const ClusterStats& cs) {
  std::vector<uint32_t> donors;
  for (size_t j = 0; j < cs.sse.size(); ++j)
    if (cs.far_err[j] > 0) donors.push_back(static_cast<uint32_t>(j));
  std::stable_sort(donors.begin(), donors.end(), [&](uint32_t a, uint32_t b) { return cs.sse[a] > cs.sse[b]; });
  return donors;
}

// ---------------------------------------------------------------------------------------------------------
// Seeding.

// k-means++ over a uniform sample: each next centre is drawn with probability proportional to
// weight * (squared distance to the nearest centre chosen so far). Sums run over fixed chunks of the
// sample in double, so the draw does not depend on the thread count.
void SeedPlusPlus(const float* x, size_t n, size_t d, std::span<const float> w, size_t k, Rng& rng,
                  std::vector<float>* centroids) {
  const std::vector<uint32_t> sample = SampleIndices(n, std::min(n, kPlusPlusSamplePerCentroid * k), rng);
  const size_t m = sample.size();
  std::vector<float> xs(d * m), ws(m), dmin(m, kInf);  // coordinates stored by dimension (vectorises)
  for (size_t i = 0; i < m; ++i) {
    for (size_t t = 0; t < d; ++t) xs[t * m + i] = x[static_cast<size_t>(sample[i]) * d + t];
    ws[i] = w.empty() ? 1.0f : w[sample[i]];
  }
  const size_t chunks = (m + kSeedChunk - 1) / kSeedChunk;
  std::vector<double> csum(chunks);
  centroids->assign(k * d, 0.0f);

  // Draws a sample index with probability proportional to ws[i] * val(i); -1 when the total is zero.
  auto draw = [&](auto&& val) -> int64_t {
    double total = 0;
    for (double v : csum) total += v;
    if (!(total > 0) || !std::isfinite(total)) return -1;
    double r = rng.Uniform() * total;
    size_t c = 0, clast = chunks - 1;
    while (!(csum[clast] > 0)) --clast;  // exists: total > 0
    while (c < clast && r >= csum[c]) r -= csum[c++];
    int64_t last = -1;
    double run = 0;
    for (size_t i = c * kSeedChunk; i < std::min(m, (c + 1) * kSeedChunk); ++i) {
      const double p = static_cast<double>(ws[i]) * val(i);
      if (p <= 0) continue;
      last = static_cast<int64_t>(i);
      run += p;
      if (run > r) break;
    }
    return last;
  };
  auto chunk_sum = [&](size_t c, auto&& val) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const size_t lo = c * kSeedChunk, hi = std::min(m, lo + kSeedChunk);
    size_t i = lo;
    for (; i + 8 <= hi; i += 8)
      for (size_t l = 0; l < 8; ++l) acc[l] += static_cast<double>(ws[i + l]) * val(i + l);
    for (size_t l = 0; i < hi; ++i, ++l) acc[l] += static_cast<double>(ws[i]) * val(i);
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
  };

  auto one = [](size_t) { return 1.0; };
  for (size_t c = 0; c < chunks; ++c) csum[c] = chunk_sum(c, one);
  int64_t pick = draw(one);
  if (pick < 0) pick = static_cast<int64_t>(rng.Below(m));
  auto dval = [&](size_t i) { return static_cast<double>(dmin[i]); };
  for (size_t j = 0;; ++j) {
    float* cj = centroids->data() + j * d;
    for (size_t t = 0; t < d; ++t) cj[t] = xs[t * m + static_cast<size_t>(pick)];
    if (j + 1 == k) break;
#pragma omp parallel for schedule(static)
    for (int64_t cc = 0; cc < static_cast<int64_t>(chunks); ++cc) {
      const size_t lo = static_cast<size_t>(cc) * kSeedChunk, len = std::min(m, lo + kSeedChunk) - lo;
      float acc[kSeedChunk];
      std::fill(acc, acc + len, 0.0f);
      for (size_t t = 0; t < d; ++t) {
        const float* xt = xs.data() + t * m + lo;
        const float ct = cj[t];
        for (size_t i = 0; i < len; ++i) {
          const float v = xt[i] - ct;
          acc[i] += v * v;
        }
      }
      float* dm = dmin.data() + lo;
      for (size_t i = 0; i < len; ++i) dm[i] = std::min(dm[i], acc[i]);
      csum[cc] = chunk_sum(static_cast<size_t>(cc), dval);
    }
    pick = draw(dval);
    if (pick < 0) pick = static_cast<int64_t>(rng.Below(m));  // every sample point is already a centre
  }
}

void SeedRandom(const float* x, size_t n, size_t d, size_t k, Rng& rng, std::vector<float>* centroids) {
  const std::vector<uint32_t> pick = SampleIndices(n, k, rng);
  centroids->resize(k * d);
  for (size_t j = 0; j < k; ++j)
    std::memcpy(centroids->data() + j * d, x + static_cast<size_t>(pick[j]) * d, d * sizeof(float));
}

// ---------------------------------------------------------------------------------------------------------

Status CheckInput(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
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

std::vector<float> DataMean(const float* x, size_t n, size_t d) {
  // Fixed chunks, combined in order: deterministic. Only used to centre coordinates.
  constexpr size_t kChunk = 65536;
  const size_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(chunks * d, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < static_cast<int64_t>(chunks); ++c)
    for (size_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i)
      for (size_t t = 0; t < d; ++t) part[c * d + t] += x[i * d + t];
  std::vector<float> mean(d);
  for (size_t t = 0; t < d; ++t) {
    double s = 0;
    for (size_t c = 0; c < chunks; ++c) s += part[c * d + t];
    mean[t] = static_cast<float>(s / static_cast<double>(n));
  }
  return mean;
}

// After the last assignment: give every empty cluster the worst point of the cluster with the largest
// error, then move to it every point that is now at least as near (exact distances; ties to the lower
// index), and repeat until no cluster is empty or no cluster has a point with positive error left.
void FillEmptyClusters(const float* x, size_t n, size_t d, std::span<const float> w, size_t k,
                       std::vector<float>* centroids, std::vector<uint32_t>* assign, ClusterStats* cs) {
  for (size_t round = 0; round < k; ++round) {
    size_t empty = k;
    for (size_t j = 0; j < k && empty == k; ++j)
      if (cs->start[j] == cs->start[j + 1]) empty = j;
    if (empty == k) return;
    const std::vector<uint32_t> donors = Donors(*cs);
    if (donors.empty()) return;
    const uint32_t p = cs->far_point[donors[0]];
    float* c = centroids->data() + empty * d;
    std::memcpy(c, x + static_cast<size_t>(p) * d, d * sizeof(float));
    const std::vector<float>& cen = *centroids;
    uint32_t* a = assign->data();
#pragma omp parallel for schedule(static)
    for (int64_t ii = 0; ii < static_cast<int64_t>(n); ++ii) {
      const size_t i = static_cast<size_t>(ii);
      const double e = Dist2(x + i * d, c, d);
      const double cur = Dist2(x + i * d, cen.data() + static_cast<size_t>(a[i]) * d, d);
      if (e < cur || (e == cur && empty < a[i])) a[i] = static_cast<uint32_t>(empty);
    }
    BucketByCluster(*assign, k, cs);
    AccumulateClusters(x, d, w, centroids->data(), k, cs);
  }
}

}  // namespace

void AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids, std::span<uint32_t> assign,
                   std::span<float> dist2) {
  if (d == 0) return;
  const size_t n = x.size() / d, k = centroids.size() / d;
  if (k == 0) {
    std::fill(assign.begin(), assign.end(), 0u);
    std::fill(dist2.begin(), dist2.end(), kInf);
    return;
  }
  // Centre on the centroid mean (near the data's mean) to keep |c|^2 - 2 x.c well conditioned.
  const std::vector<float> mean = DataMean(centroids.data(), k, d);
  Packed pack;
  Pack(centroids.data(), k, d, mean, &pack);
  ScanCtx cx;
  cx.x = x.data();
  cx.d = d;
  cx.centroids = centroids.data();
  cx.pack = &pack;
  cx.kern = SelectKernel<false>(d);
  cx.assign = assign.data();
  cx.dist2 = dist2.empty() ? nullptr : dist2.data();
  ScanAll(cx, n);
}

Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
              KMeansResult* out) {
  double total_weight = 0;
  SDC_RETURN_IF_ERROR(CheckInput(x, d, weights, opt, &total_weight));
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
    BucketByCluster(r.assign, k, &cs);
    AccumulateClusters(xp, d, weights, r.centroids.data(), k, &cs);
    r.mse = TotalError(cs) * norm;
    if (opt.progress) opt.progress(0, r.mse);
    *out = std::move(r);
    return Status::Ok();
  }

  Rng rng{opt.seed};
  std::vector<float> c;
  if (opt.init == KMeansOptions::Init::kPlusPlus)
    SeedPlusPlus(xp, n, d, weights, k, rng, &c);
  else
    SeedRandom(xp, n, d, k, rng, &c);

  const std::vector<float> mean = DataMean(xp, n, d);
  Packed pack;
  Pack(c.data(), k, d, mean, &pack);
  ScanCtx cx;
  cx.x = xp;
  cx.d = d;
  cx.centroids = c.data();
  cx.pack = &pack;
  cx.kern = SelectKernel<false>(d);
  cx.assign = r.assign.data();
  ScanAll(cx, n);
  cx.kern = SelectKernel<true>(d);  // the pruned passes need the second least q

  std::vector<float> next(k * d);
  for (int it = 0;; ++it) {
    BucketByCluster(r.assign, k, &cs);
    AccumulateClusters(xp, d, weights, c.data(), k, &cs);
    if (it == opt.iterations) {
      FillEmptyClusters(xp, n, d, weights, k, &c, &r.assign, &cs);
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
    Pack(c.data(), k, d, mean, &pack);
#pragma omp parallel
    {
      NeighborScratch s;
#pragma omp for schedule(dynamic, 1)
      for (int64_t jj = 0; jj < static_cast<int64_t>(k); ++jj) {
        const size_t j = static_cast<size_t>(jj);
        const size_t count = cs.start[j + 1] - cs.start[j];
        if (count > 0) ReassignCluster(cx, cs.perm.data() + cs.start[j], count, static_cast<uint32_t>(j), s);
      }
    }
  }
  r.centroids = std::move(c);
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace sdc
