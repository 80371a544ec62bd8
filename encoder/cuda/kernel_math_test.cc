// encoder/cuda/kernel_math.h on the CPU: every host-device function against a straightforward reference
// (the penalty coordinate, the lowest-index tie-break under any reduction order, the per-cluster
// accumulation order, the beam search of the CPU encoder, the GEMM path's candidate bound). The CUDA
// kernels run these same functions (compiled with -fmad=false), so what passes here is their arithmetic.
#include "encoder/cuda/kernel_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

#include "encoder/cuda/gpu_emulation.h"
#include "encoder/cuda/test_support.h"
#include "encoder/enc_kmeans_loop.h"

namespace sdc {
namespace {

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
uint64_t Bits(double f) {
  uint64_t u;
  std::memcpy(&u, &f, 8);
  return u;
}

// ---------------------------------------------------------------------------------------------------------
// Distances.

TEST(KernelMath, PenaltyIsAnExtraCoordinate) {
  // SqDist(x, c, d, pen) must equal, bit for bit, the plain distance of (x, 0) to (c, pen): the CPU encoder
  // appends the penalty as a coordinate and the GPU passes it separately.
  for (uint32_t d : {1u, 3u, 8u, 16u}) {
    const std::vector<float> x = gputest::Gaussian(d * 50, 1 + d), c = gputest::Gaussian(d * 50, 100 + d);
    const std::vector<float> pen = gputest::Gaussian(50, 7, 3.0f);
    for (size_t i = 0; i < 50; ++i) {
      std::vector<float> xp(x.begin() + i * d, x.begin() + (i + 1) * d), cp(c.begin() + i * d, c.begin() + (i + 1) * d);
      xp.push_back(0.0f);
      cp.push_back(std::fabs(pen[i]));
      const float p = std::fabs(pen[i]);
      EXPECT_EQ(Bits(kmath::SqDist(x.data() + i * d, c.data() + i * d, d, p)),
                Bits(kmath::SqDist(xp.data(), cp.data(), d + 1, 0.0f)));
      EXPECT_EQ(Bits(kmath::Dist2Exact(x.data() + i * d, c.data() + i * d, d, p)),
                Bits(kmath::Dist2Exact(xp.data(), cp.data(), d + 1, 0.0f)));
      // Reference: plain loops (float in coordinate order; double in coordinate order).
      float rf = 0.0f;
      double rd = 0.0;
      for (uint32_t t = 0; t <= d; ++t) {
        const float v = xp[t] - cp[t];
        rf = rf + v * v;
        const double w = static_cast<double>(xp[t]) - static_cast<double>(cp[t]);
        rd += w * w;
      }
      EXPECT_EQ(Bits(kmath::SqDist(x.data() + i * d, c.data() + i * d, d, p)), Bits(rf));
      EXPECT_EQ(Bits(kmath::Dist2Exact(x.data() + i * d, c.data() + i * d, d, p)), Bits(rd));
      // Without a penalty the extra term adds exactly zero.
      float r0 = 0.0f;
      for (uint32_t t = 0; t < d; ++t) r0 = r0 + (xp[t] - cp[t]) * (xp[t] - cp[t]);
      EXPECT_EQ(Bits(kmath::SqDist(x.data() + i * d, c.data() + i * d, d, 0.0f)), Bits(r0));
    }
  }
}

TEST(KernelMath, PenaltyCoordinateMatchesTheEntropyCost) {
  // pen = sqrt(lambda * bits) adds lambda * bits to the squared distance, up to the rounding of pen.
  const float x[2] = {0.5f, -1.0f}, c[2] = {0.25f, 0.75f};
  for (double cost : {0.0, 0.01, 1.0, 7.5, 123.0}) {
    const float pen = static_cast<float>(std::sqrt(cost));
    const double got = kmath::SqDist(x, c, 2, pen);
    const double want = 0.25 * 0.25 + 1.75 * 1.75 + cost;
    EXPECT_NEAR(got, want, 1e-6 * want);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Argmin.

// Reference: the first index of the least value.
uint32_t RefArgmin(const std::vector<float>& v) {
  return static_cast<uint32_t>(std::min_element(v.begin(), v.end()) - v.begin());
}

TEST(KernelMath, ArgminTakesTheLowestIndexAmongTies) {
  float bv = kmath::InfF();
  uint32_t bj = kmath::kNoIndex;
  const float v[6] = {3, 1, 2, 1, 1, 5};
  kmath::ArgminTile(v, 6, 10, &bv, &bj);
  EXPECT_EQ(bj, 11u);
  EXPECT_EQ(bv, 1.0f);
  // Merging later indices with the same value never moves the winner; an earlier one does.
  kmath::MergeNearest(1.0f, 12, &bv, &bj);
  EXPECT_EQ(bj, 11u);
  kmath::MergeNearest(1.0f, 4, &bv, &bj);
  EXPECT_EQ(bj, 4u);
  // All +inf (overflowed distances): the lowest index still wins.
  bv = kmath::InfF(), bj = kmath::kNoIndex;
  const float inf[3] = {kmath::InfF(), kmath::InfF(), kmath::InfF()};
  kmath::ArgminTile(inf, 3, 0, &bv, &bj);
  EXPECT_EQ(bj, 0u);
}

TEST(KernelMath, ArgminDoesNotDependOnTheReductionOrder) {
  // Values with many ties, reduced in random orders and random trees (as threads, tiles and warp shuffles
  // would): always the reference winner.
  std::mt19937_64 rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 1 + rng() % 300;
    std::vector<float> v(n);
    for (float& x : v) x = static_cast<float>(rng() % 4);
    const uint32_t want = RefArgmin(v);
    // Random permutation, linear fold.
    std::vector<uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::shuffle(order.begin(), order.end(), rng);
    float bv = kmath::InfF();
    uint32_t bj = kmath::kNoIndex;
    for (uint32_t j : order) kmath::MergeNearest(v[j], j, &bv, &bj);
    EXPECT_EQ(bj, want);
    // Random tree: repeatedly merge two random partial results.
    std::vector<std::pair<float, uint32_t>> part;
    for (uint32_t j : order) part.push_back({v[j], j});
    while (part.size() > 1) {
      const size_t a = rng() % part.size();
      auto pa = part[a];
      part.erase(part.begin() + a);
      const size_t b = rng() % part.size();
      kmath::MergeNearest(pa.first, pa.second, &part[b].first, &part[b].second);
    }
    EXPECT_EQ(part[0].second, want);
  }
}

TEST(KernelMath, TiledNearestScanEqualsTheFullScan) {
  // The direct kernel visits centroids in shared-memory tiles; the GEMM refinement in warp-strided subsets.
  // Duplicate centroids make exact ties.
  const uint32_t d = 5, k = 70, n = 300;
  std::vector<float> c = gputest::Gaussian(k * d, 11);
  for (uint32_t j = 40; j < 50; ++j) std::copy(c.begin() + (j - 40) * d, c.begin() + (j - 39) * d, c.begin() + j * d);
  const std::vector<float> x = gputest::Gaussian(n * d, 12), pen = gputest::Gaussian(k, 13, 0.5f, 1.0f);
  for (bool use_pen : {false, true}) {
    const float* p = use_pen ? pen.data() : nullptr;
    for (uint32_t i = 0; i < n; ++i) {
      std::vector<float> dist(k);
      for (uint32_t j = 0; j < k; ++j) dist[j] = kmath::SqDist(x.data() + i * d, c.data() + j * d, d, p ? p[j] : 0.0f);
      const uint32_t want = RefArgmin(dist);
      for (uint32_t tile : {1u, 7u, 16u, 64u, 256u}) {
        float bv = kmath::InfF();
        uint32_t bj = kmath::kNoIndex;
        // Tiles visited last to first: the order does not matter.
        for (int64_t j0 = (k - 1) / tile * tile; j0 >= 0; j0 -= tile) {
          const uint32_t m = std::min<uint32_t>(tile, k - static_cast<uint32_t>(j0));
          kmath::NearestInRange(x.data() + i * d, d, c.data() + j0 * d, p ? p + j0 : nullptr, m,
                                static_cast<uint32_t>(j0), &bv, &bj);
        }
        ASSERT_EQ(bj, want) << "point " << i << " tile " << tile;
        ASSERT_EQ(Bits(bv), Bits(dist[want]));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// GEMM path: every centroid whose approximation lies within GemmSlack of the least is re-scored exactly;
// the true argmin must always be among them, whatever order and FMA use the GEMM's dot products have.

enum class DotOrder { kForward, kReverseFma, kPairwise };

float Dot(const float* a, const float* b, uint32_t d, DotOrder o) {
  if (o == DotOrder::kForward) {
    float s = 0.0f;
    for (uint32_t t = 0; t < d; ++t) s = s + a[t] * b[t];
    return s;
  }
  if (o == DotOrder::kReverseFma) {
    float s = 0.0f;
    for (uint32_t t = d; t-- > 0;) s = std::fma(a[t], b[t], s);
    return s;
  }
  std::vector<float> p(d);
  for (uint32_t t = 0; t < d; ++t) p[t] = a[t] * b[t];
  for (size_t w = 1; w < d; w *= 2)
    for (size_t t = 0; t + w < d; t += 2 * w) p[t] = p[t] + p[t + w];
  return d ? p[0] : 0.0f;
}

TEST(KernelMath, GemmCandidatesAlwaysContainTheExactArgmin) {
  for (uint32_t d : {32u, 64u, 257u}) {
    for (int variant = 0; variant < 4; ++variant) {
      const bool use_pen = variant & 1, offset = variant & 2;
      // Far from the origin, centroids close together: the hard case for |x|^2 + |c|^2 - 2 x.c. With
      // `offset`, the points also lie away from the centroids (large |x'| after centring).
      const uint32_t k = 64, n = 400;
      std::vector<float> c = gputest::Gaussian(k * d, 21 + d, 0.05f, 40.0f);
      for (uint32_t j = 10; j < 20; ++j)  // near-duplicates
        for (uint32_t t = 0; t < d; ++t) c[j * d + t] = c[(j - 10) * d + t] + (t == 0 ? 1e-4f : 0.0f);
      std::vector<float> x = gputest::Gaussian(n * d, 22 + d, 0.05f, offset ? 40.5f : 40.0f);
      const std::vector<float> pen = gputest::Gaussian(k, 23, 0.01f, 0.02f);
      const float* p = use_pen ? pen.data() : nullptr;
      const uint32_t dd = d + (use_pen ? 1 : 0);
      std::vector<float> mu(d, 0.0f);
      for (uint32_t t = 0; t < d; ++t) {
        double s = 0;
        for (uint32_t j = 0; j < k; ++j) s += c[j * d + t];
        mu[t] = static_cast<float>(s / k);
      }
      std::vector<float> cc(k * d), cn(k), xc(d);
      float cnmax = 0;
      for (uint32_t j = 0; j < k; ++j) {
        for (uint32_t t = 0; t < d; ++t) cc[j * d + t] = c[j * d + t] - mu[t];
        cn[j] = kmath::SqNorm(cc.data() + j * d, d);
        if (p) cn[j] = cn[j] + p[j] * p[j];
        cnmax = std::max(cnmax, cn[j]);
      }
      size_t candidates = 0;
      for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t t = 0; t < d; ++t) xc[t] = x[i * d + t] - mu[t];
        const float xn = kmath::SqNorm(xc.data(), d);
        float bv = kmath::InfF();
        uint32_t want = kmath::kNoIndex;
        kmath::NearestInRange(x.data() + i * d, d, c.data(), p, k, 0, &bv, &want);
        for (DotOrder o : {DotOrder::kForward, DotOrder::kReverseFma, DotOrder::kPairwise}) {
          std::vector<float> a(k);
          float amin = kmath::InfF();
          for (uint32_t j = 0; j < k; ++j) {
            a[j] = kmath::GemmApprox(xn, cn[j], Dot(xc.data(), cc.data() + j * d, d, o));
            amin = std::min(amin, a[j]);
          }
          const float limit = amin + kmath::GemmSlack(dd, xn, cnmax, amin);
          float best = kmath::InfF();
          uint32_t got = kmath::kNoIndex;
          for (uint32_t j = 0; j < k; ++j)
            if (a[j] <= limit) {
              kmath::MergeNearest(kmath::SqDist(x.data() + i * d, c.data() + j * d, d, p ? p[j] : 0.0f), j, &best,
                                  &got);
              ++candidates;
            }
          ASSERT_EQ(got, want) << "d " << d << " point " << i;
        }
      }
      // The bound is not so loose that the refinement degenerates into a full scan.
      if (!offset) {
        EXPECT_LT(static_cast<double>(candidates) / (3.0 * n), 0.5 * k) << "d " << d;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Centroid update.

TEST(KernelMath, ClusterAccumulationFollowsPointOrder) {
  const uint32_t d = 6, k = 9, n = 2000;
  const std::vector<float> x = gputest::Gaussian(n * d, 31, 3.0f), w = gputest::Gaussian(n, 32, 1.0f, 2.0f);
  const std::vector<float> c = gputest::Gaussian(k * d, 33);
  std::mt19937_64 rng(34);
  std::vector<uint32_t> assign(n);
  for (uint32_t& a : assign) a = static_cast<uint32_t>(rng() % (k - 1));  // the last cluster stays empty
  std::vector<uint64_t> start;
  std::vector<uint32_t> perm;
  BucketByCluster(assign, k, &start, &perm);
  // The bucketing is the stable sort by cluster.
  std::vector<uint32_t> ref(n);
  std::iota(ref.begin(), ref.end(), 0u);
  std::stable_sort(ref.begin(), ref.end(), [&](uint32_t a, uint32_t b) { return assign[a] < assign[b]; });
  ASSERT_EQ(perm, ref);
  for (bool weighted : {false, true}) {
    for (uint32_t j = 0; j < k; ++j) {
      std::vector<double> sum(d);
      kmath::ClusterAcc acc;
      kmath::AccumulateCluster(x.data(), d, weighted ? w.data() : nullptr, perm.data() + start[j],
                               start[j + 1] - start[j], c.data() + j * d, sum.data(), &acc);
      // Reference: the k-means statistics (enc_kmeans_loop.h), points in increasing order.
      std::vector<double> rs(d, 0.0);
      double W = 0, E = 0, far = -1;
      uint32_t far_i = 0;
      for (uint32_t i = 0; i < n; ++i) {
        if (assign[i] != j) continue;
        const double wi = weighted ? static_cast<double>(w[i]) : 1.0;
        double e = 0;
        for (uint32_t t = 0; t < d; ++t) {
          const double v = static_cast<double>(x[i * d + t]) - static_cast<double>(c[j * d + t]);
          e += v * v;
        }
        for (uint32_t t = 0; t < d; ++t) rs[t] += wi * static_cast<double>(x[i * d + t]);
        W += wi;
        E += wi * e;
        if (e > far) far = e, far_i = i;  // the farthest point, unweighted (the CPU loop's rule)
      }
      for (uint32_t t = 0; t < d; ++t) EXPECT_EQ(Bits(sum[t]), Bits(rs[t])) << "cluster " << j;
      EXPECT_EQ(Bits(acc.weight), Bits(W));
      EXPECT_EQ(Bits(acc.sse), Bits(E));
      EXPECT_EQ(Bits(acc.far_err), Bits(far));
      EXPECT_EQ(acc.far_point, far_i);
      if (j == k - 1) {
        EXPECT_EQ(acc.far_err, -1.0) << "an empty cluster reports no worst point";
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Beam search: kmath::BeamSearchVector against the CPU encoder's algorithm (enc_codebook.cc BeamAssign,
// written out here with its containers and std::partial_sort).

struct RefHyp {
  double cost;
  std::vector<float> residual;
  std::vector<uint32_t> codes;
};

std::vector<uint32_t> RefBeam(const float* xv, uint32_t d, uint32_t k, uint32_t M, const std::vector<float>& banks,
                              const std::vector<float>& alpha, uint32_t beam, double lambda,
                              const std::vector<float>& bits) {
  std::vector<RefHyp> hyps{{0.0, std::vector<float>(xv, xv + d), {}}}, next;
  std::vector<std::pair<double, std::pair<int, uint32_t>>> cand;
  for (uint32_t m = 0; m < M; ++m) {
    const float a = alpha[m];
    const float* bank = banks.data() + static_cast<size_t>(m) * k * d;
    cand.clear();
    for (int h = 0; h < static_cast<int>(hyps.size()); ++h) {
      const float* r = hyps[h].residual.data();
      for (uint32_t j = 0; j < k; ++j) {
        double e = 0;
        for (uint32_t t = 0; t < d; ++t) {
          const float diff = r[t] - a * bank[j * d + t];
          e += static_cast<double>(diff) * diff;
        }
        if (!bits.empty()) e += lambda * bits[m * k + j];
        cand.push_back({hyps[h].cost + e, {h, j}});
      }
    }
    const size_t keep = std::min<size_t>(m + 1 == M ? 1 : beam, cand.size());
    std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), [](const auto& p, const auto& q) {
      return p.first < q.first || (p.first == q.first && p.second < q.second);
    });
    next.clear();
    for (size_t c = 0; c < keep; ++c) {
      const auto [h, j] = cand[c].second;
      RefHyp nh{0.0, hyps[h].residual, hyps[h].codes};
      for (uint32_t t = 0; t < d; ++t) nh.residual[t] -= a * bank[j * d + t];
      nh.codes.push_back(j);
      nh.cost = hyps[h].cost + (bits.empty() ? 0.0 : lambda * bits[m * k + j]);
      next.push_back(std::move(nh));
    }
    hyps.swap(next);
  }
  return hyps[0].codes;
}

TEST(KernelMath, BeamSearchEqualsTheCpuEncoderSearch) {
  struct Case {
    uint32_t d, k, M, beam;
    double lambda;
    bool quantized;  // bank values on a coarse grid: many exactly equal scores
  };
  const Case cases[] = {{8, 16, 2, 4, 0.0, false},  {8, 16, 3, 4, 0.3, false}, {4, 32, 4, 8, 0.05, false},
                        {2, 8, 2, 2, 0.0, true},    {3, 8, 3, 5, 1.0, true},   {1, 4, 8, 3, 0.0, true},
                        {16, 64, 2, 64, 0.2, false}};
  for (const Case& cs : cases) {
    const uint32_t n = 150;
    std::vector<float> x = gputest::Gaussian(n * cs.d, 41 + cs.k),
                       banks = gputest::Gaussian(cs.M * cs.k * cs.d, 42 + cs.M);
    std::vector<float> alpha = gputest::Gaussian(cs.M, 43, 0.1f, 1.0f), bits(cs.M * cs.k);
    if (cs.quantized) {
      for (float& v : x) v = std::round(v * 2) / 2;
      for (float& v : banks) v = std::round(v * 2) / 2;
      std::fill(alpha.begin(), alpha.end(), 1.0f);
    }
    std::mt19937_64 rng(44);
    for (float& b : bits) b = cs.quantized ? 2.0f : static_cast<float>(1 + rng() % 700) / 100.0f;
    const std::vector<float> no_bits;
    for (bool with_bits : {false, true}) {
      const std::vector<float>& bb = with_bits ? bits : no_bits;
      kmath::BeamProblem p;
      p.banks = banks.data();
      p.alpha = alpha.data();
      p.bits = with_bits ? bits.data() : nullptr;
      p.lambda = cs.lambda;
      p.d = cs.d;
      p.k = cs.k;
      p.m_count = cs.M;
      p.beam = cs.beam;
      const kmath::BeamScratchSize sz = kmath::ScratchSize(p);
      // Stride 3: three "threads" interleaved in one buffer, as on the GPU.
      for (size_t stride : {size_t{1}, size_t{3}}) {
        std::vector<float> res(sz.res * stride);
        std::vector<double> cost(sz.cost * stride), ts(sz.top * stride);
        std::vector<uint32_t> codes(sz.codes * stride), th(sz.top * stride), tj(sz.top * stride);
        for (uint32_t v = 0; v < n; ++v) {
          const size_t lane = v % stride;
          const kmath::BeamScratch s{res.data() + lane,
                                     cost.data() + lane,
                                     codes.data() + lane,
                                     ts.data() + lane,
                                     th.data() + lane,
                                     tj.data() + lane,
                                     stride};
          std::vector<uint32_t> got(cs.M);
          kmath::BeamSearchVector(x.data() + v * cs.d, p, s, got.data());
          const std::vector<uint32_t> want =
              RefBeam(x.data() + v * cs.d, cs.d, cs.k, cs.M, banks, alpha, cs.beam, cs.lambda, bb);
          ASSERT_EQ(got, want) << "d " << cs.d << " k " << cs.k << " M " << cs.M << " beam " << cs.beam << " vector "
                               << v << " bits " << with_bits << " stride " << stride;
        }
      }
      // The emulated batch (what the GPU kernel computes for all vectors) gives the same codes.
      std::vector<uint32_t> batch(n * cs.M);
      BeamRequest req;
      req.x = x;
      req.d = cs.d;
      req.k = cs.k;
      req.m_count = cs.M;
      req.banks = banks;
      req.alpha = alpha;
      req.beam = cs.beam;
      req.lambda = cs.lambda;
      req.bits = bb;
      ASSERT_TRUE(gpu::BeamAssignEmulated(req, batch).ok());
      for (uint32_t v = 0; v < n; ++v) {
        const std::vector<uint32_t> want =
            RefBeam(x.data() + v * cs.d, cs.d, cs.k, cs.M, banks, alpha, cs.beam, cs.lambda, bb);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), batch.begin() + v * cs.M)) << "vector " << v;
      }
    }
  }
}

TEST(KernelMath, BeamInsertKeepsTheBestInOrder) {
  std::mt19937_64 rng(51);
  for (int trial = 0; trial < 100; ++trial) {
    const uint32_t keep = 1 + rng() % 8;
    std::vector<std::tuple<double, uint32_t, uint32_t>> all;
    std::vector<double> ts(keep);
    std::vector<uint32_t> th(keep), tj(keep);
    uint32_t count = 0;
    for (uint32_t h = 0; h < 4; ++h)
      for (uint32_t j = 0; j < 10; ++j) {
        const double s = static_cast<double>(rng() % 5);
        all.push_back({s, h, j});
        kmath::BeamInsert(s, h, j, keep, &count, ts.data(), th.data(), tj.data(), 1);
      }
    std::sort(all.begin(), all.end());
    ASSERT_EQ(count, keep);
    for (uint32_t q = 0; q < keep; ++q) {
      EXPECT_EQ(ts[q], std::get<0>(all[q]));
      EXPECT_EQ(th[q], std::get<1>(all[q]));
      EXPECT_EQ(tj[q], std::get<2>(all[q]));
    }
  }
}

}  // namespace
}  // namespace sdc
