// Kernel arithmetic of the GPU encoder path, written once. The CUDA kernels (encoder/cuda/*.cu, compiled
// by nvcc with -fmad=false) and their CPU emulation (gpu_emulation.cc, compiled with -ffp-contract=off)
// call these same functions, so every operation is rounded the same way on both sides and the results are
// bit-identical: IEEE binary32/binary64 adds and multiplies in a fixed order, no contraction into FMA, no
// division, square root or transcendental function. Plain g++ sees ordinary inline functions.
//
//   SqDist / Dist2Exact   squared distance of a point to a centroid, with the optional penalty coordinate
//   Before / NearestInRange / MergeNearest / ArgminTile
//                         argmin with the lowest index among equal distances (a total order, so any
//                         reduction tree gives the same winner)
//   GemmApprox / GemmSlack / SqNorm
//                         the cuBLAS path for large d: which candidates the exact arithmetic re-scores
//   AccumulateCluster     per-cluster weighted sums, error and farthest point, members in increasing point
//                         order, in double (every k-means back end's, enc_kmeans_loop.h)
//   BeamScore / BeamInsert / BeamSearchVector
//                         the additive-code beam search of one vector (enc_codebook.cc BeamAssign)
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef __CUDACC__
#define SDC_HD __host__ __device__
#else
#define SDC_HD
#endif

namespace sdc::kmath {

inline constexpr uint32_t kNoIndex = 0xFFFFFFFFu;

SDC_HD inline float InfF() { return __builtin_huge_valf(); }

// ---------------------------------------------------------------------------------------------------------
// Distances.

// Squared distance in binary32, coordinates in order, plus the penalty coordinate last: the point's extra
// coordinate is 0 and the centroid's is `pen`, so the entropy-constrained cost |x - c|^2 + lambda * bits
// is the plain squared distance in d + 1 dimensions with pen = sqrt(lambda * bits) (pen = 0: no penalty,
// and adding (0 - 0)^2 = 0 changes nothing). Equal, bit for bit, to SqDist over the padded vectors.
SDC_HD inline float SqDist(const float* x, const float* c, uint32_t d, float pen) {
  float s = 0.0f;
  for (uint32_t t = 0; t < d; ++t) {
    const float v = x[t] - c[t];
    s = s + v * v;
  }
  const float p = 0.0f - pen;
  return s + p * p;
}

// The exact-order double sum of the CPU k-means (enc_kmeans_cpu.cc Dist2, which calls this) (over the d + 1 coordinates when pen != 0): what
// distances are reported as, and what k-means errors are made of.
SDC_HD inline double Dist2Exact(const float* x, const float* c, uint32_t d, float pen) {
  double s = 0.0;
  for (uint32_t t = 0; t < d; ++t) {
    const double v = static_cast<double>(x[t]) - static_cast<double>(c[t]);
    s = s + v * v;
  }
  const double p = 0.0 - static_cast<double>(pen);
  return s + p * p;
}

// ---------------------------------------------------------------------------------------------------------
// Argmin with the lowest index among equal values: (v, j) before (bv, bj) in the lexicographic order.
// NaN never wins (the inputs are finite; overflow gives +inf, which ties are broken on like any value).
SDC_HD inline bool Before(float v, uint32_t j, float bv, uint32_t bj) { return v < bv || (v == bv && j < bj); }

// Folds (v, j) into the running best (*bv, *bj). Associative and commutative: the winner of a set does not
// depend on the order or grouping in which partial results are merged (threads, tiles, warps).
SDC_HD inline void MergeNearest(float v, uint32_t j, float* bv, uint32_t* bj) {
  if (Before(v, j, *bv, *bj)) *bv = v, *bj = j;
}

// Scans m centroids (c: m x d, row-major; pen: m values or null) whose indices are first .. first + m - 1
// into the running best. Start from (InfF(), kNoIndex).
SDC_HD inline void NearestInRange(const float* x, uint32_t d, const float* c, const float* pen, uint32_t m,
                                  uint32_t first, float* bv, uint32_t* bj) {
  float b = *bv;
  uint32_t bi = *bj;
  for (uint32_t q = 0; q < m; ++q) {
    const float v = SqDist(x, c + static_cast<size_t>(q) * d, d, pen ? pen[q] : 0.0f);
    MergeNearest(v, first + q, &b, &bi);
  }
  *bv = b;
  *bj = bi;
}

// Argmin over a tile of precomputed values v[0, m) with indices first + q.
SDC_HD inline void ArgminTile(const float* v, uint32_t m, uint32_t first, float* bv, uint32_t* bj) {
  for (uint32_t q = 0; q < m; ++q) MergeNearest(v[q], first + q, bv, bj);
}

// ---------------------------------------------------------------------------------------------------------
// Large-d assignment through a GEMM (kmeans_cuda.cu): with x' = x - mu and c' = c - mu (mu: any centre),
// a_j = (|x'|^2 + |c'_j|^2 + pen_j^2) - 2 x'.c'_j approximates SqDist(x, c_j, pen_j). Every centroid whose
// a_j is within GemmSlack of the least a is re-scored with SqDist, and the argmin of those is the argmin of
// SqDist over all centroids — the direct path's answer — provided |a_j - |x - c_j|^2| stays within the
// bound E below. E covers the centring (2 roundings per coordinate), the binary32 norms, a dot product
// accumulated in any order with or without FMA (gamma_dd), and the two additions; delta covers SqDist's
// own rounding. The factor 2 is margin.
SDC_HD inline float GemmApprox(float xn, float cn, float dot) { return (xn + cn) - 2.0f * dot; }

// dd: coordinates (d, plus 1 with a penalty); xn = |x'|^2; cnmax = max_j (|c'_j|^2 + pen_j^2); amin: the
// least a_j of the point.
SDC_HD inline float GemmSlack(uint32_t dd, float xn, float cnmax, float amin) {
  const float u = 5.9604644775390625e-08f;  // 2^-24
  const float e = (2.0f * static_cast<float>(dd) + 10.0f) * u * (xn + cnmax);
  const float delta = (static_cast<float>(dd) + 4.0f) * u;
  const float amag = amin < 0.0f ? -amin : amin;
  return 2.0f * (3.0f * delta * amag + 3.0f * e);
}

// |v|^2 in binary32, coordinates in order (the GEMM path's norms).
SDC_HD inline float SqNorm(const float* v, uint32_t d) {
  float s = 0.0f;
  for (uint32_t t = 0; t < d; ++t) s = s + v[t] * v[t];
  return s;
}

// ---------------------------------------------------------------------------------------------------------
// k-means centroid update: the statistics of one cluster over its members, listed in increasing point
// order (a stable bucketing by cluster). Sums in double in that order: the reduction order is fixed by the
// data, not by threads. Every k-means back end (enc_kmeans_loop.h) computes its statistics here.
struct ClusterAcc {
  double weight = 0;       // sum of member weights
  double sse = 0;          // sum of w * |x - c|^2 (exact-order double distances)
  double far_err = -1;     // largest |x - c|^2, unweighted (-1: no member)
  uint32_t far_point = 0;  // the member it belongs to (the first of equals); re-seeding moves centroids there
};

// sum: d doubles, overwritten. w: per-point weights or null (1 each).
SDC_HD inline void AccumulateCluster(const float* x, uint32_t d, const float* w, const uint32_t* members,
                                     uint64_t count, const float* centroid, double* sum, ClusterAcc* out) {
  for (uint32_t t = 0; t < d; ++t) sum[t] = 0.0;
  double W = 0, E = 0, far = -1;
  uint32_t far_i = 0;
  for (uint64_t q = 0; q < count; ++q) {
    const uint32_t i = members[q];
    const float* xi = x + static_cast<size_t>(i) * d;
    const double wi = w ? static_cast<double>(w[i]) : 1.0;
    const double e = Dist2Exact(xi, centroid, d, 0.0f);
    for (uint32_t t = 0; t < d; ++t) sum[t] = sum[t] + wi * static_cast<double>(xi[t]);
    W = W + wi;
    E = E + wi * e;
    if (e > far) far = e, far_i = i;
  }
  out->weight = W;
  out->sse = E;
  out->far_err = far;
  out->far_point = far_i;
}

// ---------------------------------------------------------------------------------------------------------
// Additive-code beam search (enc_codebook.cc BeamAssign, beam >= 2 and M >= 2), one vector at a time.
// Stage m scores every (hypothesis h, entry j) as cost_h + |r_h - alpha_m b_mj|^2 + lambda bits_mj, keeps
// the `beam` best (the last stage: the best one) in the order (score, h, j), and carries the penalty part
// of the cost forward.

struct BeamProblem {
  const float* banks = nullptr;  // M x k x d: entry j of bank m at banks[(m * k + j) * d]
  const float* alpha = nullptr;  // M mixing coefficients
  const float* bits = nullptr;   // M x k code lengths, or null: no penalty
  double lambda = 0;
  uint32_t d = 0, k = 0, m_count = 0, beam = 1;
};

// Per-vector scratch. Element e of each array lives at base[e * stride]: stride 1 on the CPU; on the GPU,
// the number of threads sharing the buffer, so that neighbouring threads touch neighbouring words.
struct BeamScratch {
  float* res = nullptr;         // 2 x beam x d residuals (current, next)
  double* cost = nullptr;       // 2 x beam carried penalties
  uint32_t* codes = nullptr;    // 2 x beam x M codes
  double* top_score = nullptr;  // beam
  uint32_t* top_h = nullptr;    // beam
  uint32_t* top_j = nullptr;    // beam
  size_t stride = 1;
};

// Elements of each scratch array for a problem (the caller allocates them, times the stride).
struct BeamScratchSize {
  size_t res, cost, codes, top;
};
SDC_HD inline BeamScratchSize ScratchSize(const BeamProblem& p) {
  return {2 * static_cast<size_t>(p.beam) * p.d, 2 * static_cast<size_t>(p.beam),
          2 * static_cast<size_t>(p.beam) * p.m_count, static_cast<size_t>(p.beam)};
}

// Score of extending a hypothesis (residual r with element stride rs, carried cost `base`) by entry b
// scaled by a: base + (sum_t (r_t - a b_t)^2 in double) + lambda * bits (when has_bits).
SDC_HD inline double BeamScore(const float* r, size_t rs, const float* b, float a, uint32_t d, double base,
                               bool has_bits, double lambda, float bits) {
  double e = 0;
  for (uint32_t t = 0; t < d; ++t) {
    const float diff = r[t * rs] - a * b[t];
    e = e + static_cast<double>(diff) * static_cast<double>(diff);
  }
  if (has_bits) e = e + lambda * static_cast<double>(bits);
  return base + e;
}

// (s, h, j) before (s2, h2, j2): by score, then hypothesis, then entry (the CPU's partial_sort order).
SDC_HD inline bool BeamBefore(double s, uint32_t h, uint32_t j, double s2, uint32_t h2, uint32_t j2) {
  return s < s2 || (s == s2 && (h < h2 || (h == h2 && j < j2)));
}

// Inserts a candidate into the sorted list of at most `keep` best (count: entries so far).
SDC_HD inline void BeamInsert(double s, uint32_t h, uint32_t j, uint32_t keep, uint32_t* count, double* ts,
                              uint32_t* th, uint32_t* tj, size_t st) {
  uint32_t pos;
  if (*count < keep) {
    pos = (*count)++;
  } else {
    if (!BeamBefore(s, h, j, ts[(keep - 1) * st], th[(keep - 1) * st], tj[(keep - 1) * st])) return;
    pos = keep - 1;
  }
  while (pos > 0 && BeamBefore(s, h, j, ts[(pos - 1) * st], th[(pos - 1) * st], tj[(pos - 1) * st])) {
    ts[pos * st] = ts[(pos - 1) * st];
    th[pos * st] = th[(pos - 1) * st];
    tj[pos * st] = tj[(pos - 1) * st];
    --pos;
  }
  ts[pos * st] = s;
  th[pos * st] = h;
  tj[pos * st] = j;
}

// The M codes of vector x (d values) into out[0, M).
SDC_HD inline void BeamSearchVector(const float* x, const BeamProblem& p, const BeamScratch& s, uint32_t* out) {
  const uint32_t d = p.d, k = p.k, M = p.m_count, B = p.beam;
  const size_t st = s.stride;
  // Buffer b (0 or 1), hypothesis h: residual at res[((b * B + h) * d + t) * st], cost at cost[(b * B + h)
  // * st], codes at codes[((b * B + h) * M + m) * st].
  uint32_t cur = 0, nh = 1;
  for (uint32_t t = 0; t < d; ++t) s.res[t * st] = x[t];
  s.cost[0] = 0.0;
  for (uint32_t m = 0; m < M; ++m) {
    const float a = p.alpha[m];
    const float* bank = p.banks + static_cast<size_t>(m) * k * d;
    const float* bits = p.bits ? p.bits + static_cast<size_t>(m) * k : nullptr;
    const uint64_t cand = static_cast<uint64_t>(nh) * k;
    const uint32_t want = m + 1 == M ? 1u : B;
    const uint32_t keep = cand < want ? static_cast<uint32_t>(cand) : want;
    uint32_t count = 0;
    for (uint32_t h = 0; h < nh; ++h) {
      const float* r = s.res + static_cast<size_t>(cur * B + h) * d * st;
      const double base = s.cost[static_cast<size_t>(cur * B + h) * st];
      for (uint32_t j = 0; j < k; ++j) {
        const double sc = BeamScore(r, st, bank + static_cast<size_t>(j) * d, a, d, base, bits != nullptr, p.lambda,
                                    bits ? bits[j] : 0.0f);
        BeamInsert(sc, h, j, keep, &count, s.top_score, s.top_h, s.top_j, st);
      }
    }
    const uint32_t nxt = 1 - cur;
    for (uint32_t c = 0; c < count; ++c) {
      const uint32_t h = s.top_h[c * st], j = s.top_j[c * st];
      const float* r = s.res + static_cast<size_t>(cur * B + h) * d * st;
      float* nr = s.res + static_cast<size_t>(nxt * B + c) * d * st;
      const float* e = bank + static_cast<size_t>(j) * d;
      for (uint32_t t = 0; t < d; ++t) nr[t * st] = r[t * st] - a * e[t];
      const double carried = s.cost[static_cast<size_t>(cur * B + h) * st];
      s.cost[static_cast<size_t>(nxt * B + c) * st] = carried + (bits ? p.lambda * static_cast<double>(bits[j]) : 0.0);
      const uint32_t* oc = s.codes + static_cast<size_t>(cur * B + h) * M * st;
      uint32_t* ncodes = s.codes + static_cast<size_t>(nxt * B + c) * M * st;
      for (uint32_t q = 0; q < m; ++q) ncodes[q * st] = oc[q * st];
      ncodes[m * st] = j;
    }
    cur = nxt;
    nh = count;
  }
  const uint32_t* best = s.codes + static_cast<size_t>(cur * B) * M * st;
  for (uint32_t q = 0; q < M; ++q) out[q] = best[q * st];
}

}  // namespace sdc::kmath
