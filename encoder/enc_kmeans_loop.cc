#include "encoder/enc_kmeans_loop.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

namespace sdc {
namespace {

double TotalError(const ClusterStats& cs) {
  double e = 0;
  for (const kmath::ClusterAcc& a : cs.acc) e += a.sse;
  return e;
}

// Donor order for re-seeding: clusters of at least two points whose farthest point is not on the centroid,
// by decreasing weighted error (ties: lowest index).
std::vector<uint32_t> Donors(const ClusterStats& cs) {
  std::vector<uint32_t> donors;
  for (size_t j = 0; j < cs.acc.size(); ++j)
    if (cs.acc[j].far_err > 0 && cs.start[j + 1] - cs.start[j] >= 2) donors.push_back(static_cast<uint32_t>(j));
  std::stable_sort(donors.begin(), donors.end(), [&](uint32_t a, uint32_t b) { return cs.acc[a].sse > cs.acc[b].sse; });
  return donors;
}

// Moves every centroid whose cluster is empty in `cs`, in increasing index order, onto the farthest point
// of a different donor; when donors run out, the rest keep their centroid. Whether any moved.
bool ReseedEmpty(const ClusterStats& cs, const float* x, size_t d, float* centroids) {
  const size_t k = cs.acc.size();
  std::vector<uint32_t> donors;
  bool have_donors = false, moved = false;
  size_t used = 0;
  for (size_t j = 0; j < k; ++j) {
    if (cs.start[j] != cs.start[j + 1]) continue;
    if (!have_donors) donors = Donors(cs), have_donors = true;
    if (used >= donors.size()) break;
    const uint32_t p = cs.acc[donors[used++]].far_point;
    std::memcpy(centroids + j * d, x + static_cast<size_t>(p) * d, d * sizeof(float));
    moved = true;
  }
  return moved;
}

Status Collect(KMeansBackend& be, std::span<const uint32_t> assign, size_t k, size_t d, const float* centroids,
               ClusterStats* cs) {
  BucketByCluster(assign, k, &cs->start, &cs->perm);
  cs->sum.assign(k * d, 0.0);
  cs->acc.assign(k, kmath::ClusterAcc{});
  return be.Accumulate(centroids, cs);
}

// After the last assignment: the re-seeding rule of the iterations, then every point assigned again by a
// full scan; repeated while that leaves a cluster empty and donors remain (a few rounds at most: a
// re-seeded centroid sits on a point no other centroid holds, so it keeps at least that point).
Status FillEmptyClusters(KMeansBackend& be, const float* x, size_t d, std::vector<float>* centroids,
                         std::vector<uint32_t>* assign, ClusterStats* cs) {
  const size_t k = cs->acc.size();
  for (int round = 0; round < 16; ++round) {
    if (!ReseedEmpty(*cs, x, d, centroids->data())) return Status::Ok();
    SDC_RETURN_IF_ERROR(be.AssignAll(centroids->data(), assign->data()));
    SDC_RETURN_IF_ERROR(Collect(be, *assign, k, d, centroids->data(), cs));
  }
  return Status::Ok();
}

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

// k >= n: every point is its own centroid (duplicates go to the first copy); the remaining centroids are
// zero. Sets the centroids, the assignment and the statistics.
void EveryPointACentroid(std::span<const float> x, size_t d, std::span<const float> w, size_t k, KMeansResult* r,
                         ClusterStats* cs) {
  const size_t n = x.size() / d;
  r->centroids.assign(k * d, 0.0f);
  std::copy(x.begin(), x.end(), r->centroids.begin());
  r->assign.resize(n);
  AssignNearest(x, d, std::span<const float>(r->centroids.data(), n * d), r->assign, {});
  BucketByCluster(r->assign, k, &cs->start, &cs->perm);
  cs->sum.assign(k * d, 0.0);
  cs->acc.assign(k, kmath::ClusterAcc{});
  for (size_t j = 0; j < k; ++j)
    kmath::AccumulateCluster(x.data(), static_cast<uint32_t>(d), w.empty() ? nullptr : w.data(),
                             cs->perm.data() + cs->start[j], cs->start[j + 1] - cs->start[j],
                             r->centroids.data() + j * d, cs->sum.data() + j * d, &cs->acc[j]);
}

}  // namespace

void BucketByCluster(std::span<const uint32_t> assign, size_t k, std::vector<uint64_t>* start,
                     std::vector<uint32_t>* perm) {
  const size_t n = assign.size();
  // A stable sort by cluster, counted per chunk of points: the result does not depend on the chunking.
  const size_t chunks = std::max<size_t>(1, std::min<size_t>((n + 16383) / 16384, 4 * omp_get_max_threads()));
  std::vector<uint64_t> hist(chunks * k, 0);
  const int64_t nch = static_cast<int64_t>(chunks);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nch; ++c) {
    uint64_t* h = hist.data() + c * k;
    for (size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) ++h[assign[i]];
  }
  start->assign(k + 1, 0);
  uint64_t pos = 0;
  for (size_t j = 0; j < k; ++j) {
    (*start)[j] = pos;
    for (size_t c = 0; c < chunks; ++c) {
      const uint64_t cnt = hist[c * k + j];
      hist[c * k + j] = pos;
      pos += cnt;
    }
  }
  (*start)[k] = pos;
  perm->resize(n);
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < nch; ++c) {
    uint64_t* h = hist.data() + c * k;
    for (size_t i = n * c / chunks; i < n * (c + 1) / chunks; ++i) (*perm)[h[assign[i]]++] = static_cast<uint32_t>(i);
  }
}

Status RunKMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                 const KMeansBackendFactory& make, KMeansResult* out) {
  double total_weight = 0;
  SDC_RETURN_IF_ERROR(CheckInput(x, d, weights, opt, &total_weight));
  const size_t n = x.size() / d, k = static_cast<size_t>(opt.k);
  const double norm = 1.0 / (total_weight * static_cast<double>(d));
  const float* xp = x.data();
  KMeansResult r;
  ClusterStats cs;
  if (k >= n) {
    EveryPointACentroid(x, d, weights, k, &r, &cs);
    r.mse = TotalError(cs) * norm;
    if (opt.progress) opt.progress(0, r.mse);
    *out = std::move(r);
    return Status::Ok();
  }

  std::vector<float> c;
  KMeansSeeds(x, d, weights, opt, &c);
  std::unique_ptr<KMeansBackend> be;
  SDC_RETURN_IF_ERROR(make(x, d, weights, k, &be));
  r.assign.resize(n);
  SDC_RETURN_IF_ERROR(be->AssignAll(c.data(), r.assign.data()));

  std::vector<float> next(k * d);
  for (int it = 0;; ++it) {
    SDC_RETURN_IF_ERROR(Collect(*be, r.assign, k, d, c.data(), &cs));
    if (it == opt.iterations) {
      SDC_RETURN_IF_ERROR(FillEmptyClusters(*be, xp, d, &c, &r.assign, &cs));
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
        next[j * d + t] =
            cs.acc[j].weight > 0 ? static_cast<float>(cs.sum[j * d + t] / cs.acc[j].weight) : c[j * d + t];
    const bool reseeded = ReseedEmpty(cs, xp, d, next.data());
    if (!reseeded && std::memcmp(next.data(), c.data(), k * d * sizeof(float)) == 0) {
      // A fixed point: further iterations would repeat this one exactly, and the last progress call
      // already reported the result (no cluster is empty unless no donor exists).
      r.mse = mse;
      r.iterations_run = it;
      break;
    }
    c.swap(next);
    SDC_RETURN_IF_ERROR(be->Reassign(c.data(), cs, r.assign.data()));
  }
  r.centroids = std::move(c);
  *out = std::move(r);
  return Status::Ok();
}

}  // namespace sdc
