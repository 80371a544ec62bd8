#include "encoder/cuda/kmeans_driver.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace sdc::gpu {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Cluster statistics of one assignment.
struct Stats {
  std::vector<uint64_t> start;
  std::vector<uint32_t> perm;
  std::vector<double> sum;
  std::vector<kmath::ClusterAcc> acc;
};

Status Collect(KMeansKernels& kern, std::span<const uint32_t> assign, size_t k, size_t d, const float* centroids,
               Stats* s) {
  BucketByCluster(assign, k, &s->start, &s->perm);
  s->sum.assign(k * d, 0.0);
  s->acc.assign(k, kmath::ClusterAcc{});
  return kern.Accumulate(s->perm.data(), s->start.data(), centroids, s->sum.data(), s->acc.data());
}

double TotalError(const Stats& s) {
  double e = 0;
  for (const kmath::ClusterAcc& a : s.acc) e += a.sse;
  return e;
}

std::vector<uint32_t> Donors(const Stats& s) {
  std::vector<uint32_t> donors;
  for (size_t j = 0; j < s.acc.size(); ++j)
    if (s.acc[j].far_err > 0 && s.start[j + 1] - s.start[j] >= 2) donors.push_back(static_cast<uint32_t>(j));
  std::stable_sort(donors.begin(), donors.end(), [&](uint32_t a, uint32_t b) { return s.acc[a].sse > s.acc[b].sse; });
  return donors;
}

// enc_kmeans.cc FillEmptyClusters (exact double distances on the host: rare, O(n d) per empty cluster).
Status FillEmptyClusters(KMeansKernels& kern, const float* x, size_t n, size_t d, size_t k,
                         std::vector<float>* centroids, std::vector<uint32_t>* assign, Stats* s) {
  const uint32_t dd = static_cast<uint32_t>(d);
  for (size_t round = 0; round < k; ++round) {
    size_t empty = k;
    for (size_t j = 0; j < k && empty == k; ++j)
      if (s->start[j] == s->start[j + 1]) empty = j;
    if (empty == k) return Status::Ok();
    const std::vector<uint32_t> donors = Donors(*s);
    if (donors.empty()) return Status::Ok();
    const uint32_t p = s->acc[donors[0]].far_point;
    float* c = centroids->data() + empty * d;
    std::memcpy(c, x + static_cast<size_t>(p) * d, d * sizeof(float));
    const float* cen = centroids->data();
    uint32_t* a = assign->data();
#pragma omp parallel for schedule(static)
    for (int64_t ii = 0; ii < static_cast<int64_t>(n); ++ii) {
      const size_t i = static_cast<size_t>(ii);
      const double e = kmath::Dist2Exact(x + i * d, c, dd, 0.0f);
      const double cur = kmath::Dist2Exact(x + i * d, cen + static_cast<size_t>(a[i]) * d, dd, 0.0f);
      if (e < cur || (e == cur && empty < a[i])) a[i] = static_cast<uint32_t>(empty);
    }
    SDC_RETURN_IF_ERROR(Collect(kern, *assign, k, d, centroids->data(), s));
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------------
// The emulated kernels: each GPU thread's body in a loop.
class HostKernels : public KMeansKernels {
 public:
  HostKernels(std::span<const float> x, size_t d, std::span<const float> w, size_t k) : x_(x), d_(d), w_(w), k_(k) {}
  Status Assign(const float* centroids, uint32_t* assign) override {
    AssignNearestEmulated(x_, d_, std::span<const float>(centroids, k_ * d_), {}, std::span<uint32_t>(assign, x_.size() / d_),
                          {});
    return Status::Ok();
  }
  Status Accumulate(const uint32_t* perm, const uint64_t* start, const float* centroids, double* sum,
                    kmath::ClusterAcc* acc) override {
    const uint32_t d = static_cast<uint32_t>(d_);
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t j = 0; j < static_cast<int64_t>(k_); ++j)
      kmath::AccumulateCluster(x_.data(), d, w_.empty() ? nullptr : w_.data(), perm + start[j], start[j + 1] - start[j],
                               centroids + j * d_, sum + j * d_, acc + j);
    return Status::Ok();
  }

 private:
  std::span<const float> x_;
  size_t d_;
  std::span<const float> w_;
  size_t k_;
};

}  // namespace

void BucketByCluster(std::span<const uint32_t> assign, size_t k, std::vector<uint64_t>* start,
                     std::vector<uint32_t>* perm) {
  const size_t n = assign.size();
  start->assign(k + 1, 0);
  for (uint32_t a : assign) ++(*start)[a + 1];
  for (size_t j = 0; j < k; ++j) (*start)[j + 1] += (*start)[j];
  std::vector<uint64_t> pos(start->begin(), start->end() - 1);
  perm->resize(n);
  for (size_t i = 0; i < n; ++i) (*perm)[pos[assign[i]]++] = static_cast<uint32_t>(i);
}

Status KMeansWithKernels(std::span<const float> x, size_t d, std::span<const float> weights,
                         const KMeansOptions& opt, const KernelFactory& make, KMeansResult* out) {
  double total_weight = 0;
  SDC_RETURN_IF_ERROR(KMeansCheckInput(x, d, weights, opt, &total_weight));
  const size_t n = x.size() / d, k = static_cast<size_t>(opt.k);
  // Every point its own centroid: nothing to iterate, and nothing worth a device.
  if (k >= n) return KMeans(x, d, weights, opt, out);
  const double norm = 1.0 / (total_weight * static_cast<double>(d));
  const float* xp = x.data();

  std::vector<float> c;
  KMeansSeeds(x, d, weights, opt, &c);  // the CPU's own seeding: both paths start from the same centroids

  std::unique_ptr<KMeansKernels> kern;
  SDC_RETURN_IF_ERROR(make(x, d, weights, k, &kern));
  KMeansResult r;
  r.assign.resize(n);
  SDC_RETURN_IF_ERROR(kern->Assign(c.data(), r.assign.data()));

  Stats cs;
  std::vector<float> next(k * d);
  for (int it = 0;; ++it) {
    SDC_RETURN_IF_ERROR(Collect(*kern, r.assign, k, d, c.data(), &cs));
    if (it == opt.iterations) {
      SDC_RETURN_IF_ERROR(FillEmptyClusters(*kern, xp, n, d, k, &c, &r.assign, &cs));
      r.mse = TotalError(cs) * norm;
      r.iterations_run = it;
      if (opt.progress) opt.progress(it, r.mse);
      break;
    }
    const double mse = TotalError(cs) * norm;
    if (opt.progress) opt.progress(it, mse);

    for (size_t j = 0; j < k; ++j)
      for (size_t t = 0; t < d; ++t)
        next[j * d + t] = cs.acc[j].weight > 0 ? static_cast<float>(cs.sum[j * d + t] / cs.acc[j].weight) : c[j * d + t];
    bool reseeded = false, have_donors = false;
    std::vector<uint32_t> donors;
    size_t used = 0;
    for (size_t j = 0; j < k; ++j) {
      if (cs.start[j] != cs.start[j + 1]) continue;
      if (!have_donors) donors = Donors(cs), have_donors = true;
      if (used >= donors.size()) break;
      const uint32_t p = cs.acc[donors[used++]].far_point;
      std::memcpy(next.data() + j * d, xp + static_cast<size_t>(p) * d, d * sizeof(float));
      reseeded = true;
    }
    if (!reseeded && std::memcmp(next.data(), c.data(), k * d * sizeof(float)) == 0) {
      r.mse = mse;
      r.iterations_run = it;
      break;
    }
    c.swap(next);
    SDC_RETURN_IF_ERROR(kern->Assign(c.data(), r.assign.data()));
  }
  r.centroids = std::move(c);
  *out = std::move(r);
  return Status::Ok();
}

void AssignNearestEmulated(std::span<const float> x, size_t d, std::span<const float> centroids,
                           std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2) {
  if (d == 0) return;
  const size_t n = x.size() / d, k = centroids.size() / d;
  const uint32_t dd = static_cast<uint32_t>(d);
  if (k == 0) {
    std::fill(assign.begin(), assign.end(), 0u);
    std::fill(dist2.begin(), dist2.end(), kInf);
    return;
  }
  const float* pen = penalty.empty() ? nullptr : penalty.data();
#pragma omp parallel for schedule(static)
  for (int64_t ii = 0; ii < static_cast<int64_t>(n); ++ii) {
    const size_t i = static_cast<size_t>(ii);
    float best = kmath::InfF();
    uint32_t bj = kmath::kNoIndex;
    // The GPU visits the centroids in tiles; the result does not depend on the tiling (MergeNearest).
    kmath::NearestInRange(x.data() + i * d, dd, centroids.data(), pen, static_cast<uint32_t>(k), 0, &best, &bj);
    assign[i] = bj;
    if (!dist2.empty())
      dist2[i] = static_cast<float>(kmath::Dist2Exact(x.data() + i * d, centroids.data() + static_cast<size_t>(bj) * d,
                                                      dd, pen ? pen[bj] : 0.0f));
  }
}

Status KMeansEmulated(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                      KMeansResult* out) {
  return KMeansWithKernels(
      x, d, weights, opt,
      [](std::span<const float> xs, size_t dim, std::span<const float> w, size_t k, std::unique_ptr<KMeansKernels>* o) {
        *o = std::make_unique<HostKernels>(xs, dim, w, k);
        return Status::Ok();
      },
      out);
}

void BeamAssignEmulated(std::span<const float> x, uint32_t d, uint32_t k, uint32_t m_count,
                        std::span<const float> banks, std::span<const float> alpha, uint32_t beam, double lambda,
                        std::span<const float> bits, std::span<uint32_t> codes) {
  kmath::BeamProblem p;
  p.banks = banks.data();
  p.alpha = alpha.data();
  p.bits = bits.empty() ? nullptr : bits.data();
  p.lambda = lambda;
  p.d = d;
  p.k = k;
  p.m_count = m_count;
  p.beam = beam;
  const kmath::BeamScratchSize sz = kmath::ScratchSize(p);
  const int64_t n = static_cast<int64_t>(x.size() / d);
#pragma omp parallel
  {
    std::vector<float> res(sz.res);
    std::vector<double> cost(sz.cost), top_score(sz.top);
    std::vector<uint32_t> cds(sz.codes), top_h(sz.top), top_j(sz.top);
    const kmath::BeamScratch s{res.data(), cost.data(), cds.data(), top_score.data(), top_h.data(), top_j.data(), 1};
#pragma omp for schedule(dynamic, 256)
    for (int64_t v = 0; v < n; ++v) kmath::BeamSearchVector(x.data() + v * d, p, s, codes.data() + v * m_count);
  }
}

}  // namespace sdc::gpu
