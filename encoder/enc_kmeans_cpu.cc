// The CPU back end of k-means (enc_kmeans_loop.h), and KMeans and AssignNearest (enc_kmeans.h) on it.
//
// A full scan runs the distance kernels (enc_kmeans_simd.h) over tiles of points against every centroid.
// After an update, each cluster's points are scanned only against the centroids they could move to
// (triangle inequality, below); the result is the one a full scan gives. The points are kept gathered by
// cluster (contiguous per cluster) between the accumulation and the next reassignment.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <utility>

#include "encoder/cuda/kernel_math.h"
#include "encoder/enc_kmeans.h"
#include "encoder/enc_kmeans_loop.h"
#include "encoder/enc_kmeans_simd.h"

namespace sdc {
namespace {

using kmeans::AllDist;
using kmeans::ByDim;
using kmeans::Kernels;
using kmeans::kInf;
using kmeans::kLanes;
using kmeans::ListWithin;
using kmeans::RelErr;

constexpr size_t kGroup = 512;  // points per parallel work item of a full scan

// Exact squared distance, accumulated in double in dimension order (the GPU path's arithmetic too).
inline double Dist2(const float* a, const float* b, size_t d) {
  return kmath::Dist2Exact(a, b, static_cast<uint32_t>(d), 0.0f);
}

inline float RoundUp(double v) {
  const float f = static_cast<float>(v);
  return static_cast<double>(f) >= v ? f : std::nextafter(f, kInf);
}

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

// Pruned reassignment after an update. For a point x of cluster a with u = |x - c_a|, every centroid at
// most as near as c_a lies within 2u of c_a (triangle inequality). Per cluster, the members are sorted by u
// (coarsely) and cut into tiles; consecutive tiles form rings (single tiles first, then growing by 1.25x),
// ring r's bound being 2u of its farthest member. A tile scans, in index order, the centroids whose
// distance from c_a (float, with a margin for its rounding) is within its ring's bound: a superset of what
// each of its points needs, in which the kernel finds the nearest with ties to the lowest index exactly as
// a full scan would. Rings listing more than kListMax of all centroids scan all of them.
constexpr double kListMax = 0.75;
constexpr size_t kUBins = 256;

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
class CpuBackend : public KMeansBackend {
 public:
  CpuBackend(std::span<const float> x, size_t d, std::span<const float> w, size_t k)
      : x_(x), w_(w), d_(d), k_(k), kern_(kmeans::SelectKernels(d)), position_(x.size() / d) {
    std::iota(position_.begin(), position_.end(), 0u);
  }

  Status AssignAll(const float* centroids, uint32_t* assign) override {
    ScanAll(Ctx(centroids, assign), x_.size() / d_);
    return Status::Ok();
  }

  Status Reassign(const float* centroids, const ClusterStats& prev, uint32_t* assign) override {
    kmeans::MakeByDim(centroids, k_, d_, &bydim_);
    const ScanCtx cx = Ctx(centroids, assign);
#pragma omp parallel
    {
      NeighborScratch s;
#pragma omp for schedule(dynamic, 1)
      for (int64_t jj = 0; jj < static_cast<int64_t>(k_); ++jj) {
        const size_t j = static_cast<size_t>(jj);
        const size_t count = prev.start[j + 1] - prev.start[j];
        if (count > 0)
          ReassignCluster(cx, prev.perm.data() + prev.start[j], xs_.data() + prev.start[j] * d_, count,
                          static_cast<uint32_t>(j), s);
      }
    }
    return Status::Ok();
  }

  // Gathers the points (and weights) in cluster order, then sums each cluster's contiguous rows; the
  // farthest member found at a grouped position is mapped back to its point.
  Status Accumulate(const float* centroids, ClusterStats* cs) override {
    const size_t n = cs->perm.size(), d = d_;
    xs_.resize(n * d);
    ws_.resize(w_.size());
#pragma omp parallel for schedule(static)
    for (int64_t qq = 0; qq < static_cast<int64_t>(n); ++qq) {
      const size_t q = static_cast<size_t>(qq), i = cs->perm[q];
      std::memcpy(xs_.data() + q * d, x_.data() + i * d, d * sizeof(float));
      if (!w_.empty()) ws_[q] = w_[i];
    }
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t jj = 0; jj < static_cast<int64_t>(k_); ++jj) {
      const size_t j = static_cast<size_t>(jj);
      const uint64_t first = cs->start[j], count = cs->start[j + 1] - first;
      kmath::ClusterAcc& acc = cs->acc[j];
      kmath::AccumulateCluster(xs_.data(), static_cast<uint32_t>(d), ws_.empty() ? nullptr : ws_.data(),
                               position_.data() + first, count, centroids + j * d, cs->sum.data() + j * d, &acc);
      if (count > 0) acc.far_point = cs->perm[acc.far_point];
    }
    return Status::Ok();
  }

 private:
  ScanCtx Ctx(const float* centroids, uint32_t* assign) const {
    ScanCtx cx;
    cx.x = x_.data();
    cx.d = d_;
    cx.centroids = centroids;
    cx.k = k_;
    cx.bydim = &bydim_;
    cx.kern = kern_;
    cx.assign = assign;
    return cx;
  }

  std::span<const float> x_, w_;
  size_t d_, k_;
  Kernels kern_;
  ByDim bydim_;
  std::vector<float> xs_, ws_;      // points and weights in the grouped order of the last accumulation
  std::vector<uint32_t> position_;  // 0, 1, ..., n - 1: the grouped positions, as member lists
};

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
  ScanCtx cx;
  cx.x = x.data();
  cx.d = d;
  cx.centroids = centroids.data();
  cx.k = k;
  cx.kern = kmeans::SelectKernels(d);
  cx.assign = assign.data();
  cx.dist2 = dist2.empty() ? nullptr : dist2.data();
  ScanAll(cx, n);
}

Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
              KMeansResult* out) {
  return RunKMeans(x, d, weights, opt, BackendFactory<CpuBackend>(), out);
}

}  // namespace sdc
