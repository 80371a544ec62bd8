// The Lloyd loop of k-means, written once for every device (enc_kmeans.h describes its rules). What
// differs between the CPU (enc_kmeans_cpu.cc), the CUDA kernels (cuda/kmeans_cuda.cu) and their CPU
// emulation in the tests (cuda/gpu_emulation.cc) is only the two data-parallel passes of an iteration,
// behind KMeansBackend: assigning every point to its nearest centroid, and the per-cluster sums. Seeding,
// the bucketing of points by cluster, the centroid update, the re-seeding of empty clusters from donors,
// the fixed-point stop and the final filling of empty clusters are this file's, the same for all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "encoder/cuda/kernel_math.h"
#include "encoder/enc_kmeans.h"
#include "format/status.h"

namespace sdc {

// The statistics of one assignment: its members bucketed by cluster in increasing point order, and per
// cluster the weighted sums (double), the weighted squared error against the centroid and the farthest
// member (kmath::AccumulateCluster, the same arithmetic on every device).
struct ClusterStats {
  std::vector<uint64_t> start;         // k + 1: cluster j's members are perm[start[j], start[j + 1])
  std::vector<uint32_t> perm;          // n
  std::vector<double> sum;             // k * d
  std::vector<kmath::ClusterAcc> acc;  // k
};

// The stable bucketing of points by cluster (start and perm above); the same for any thread count.
void BucketByCluster(std::span<const uint32_t> assign, size_t k, std::vector<uint64_t>* start,
                     std::vector<uint32_t>* perm);

// The device's half of k-means, over the points (and weights) it was made for; k centroids of d values,
// row-major, on the host.
class KMeansBackend {
 public:
  virtual ~KMeansBackend() = default;
  // assign[i]: the nearest centroid of point i (ties: the lowest index), by a full scan.
  virtual Status AssignAll(const float* centroids, uint32_t* assign) = 0;
  // The same result after a centroid update; `prev` holds the statistics of the previous assignment (the
  // CPU uses them to scan only the centroids a point could move to).
  virtual Status Reassign(const float* centroids, const ClusterStats& prev, uint32_t* assign) {
    (void)prev;
    return AssignAll(centroids, assign);
  }
  // cs->sum and cs->acc for the members listed in cs->start and cs->perm (sized by the caller).
  virtual Status Accumulate(const float* centroids, ClusterStats* cs) = 0;
};

// Makes the back end for n = x.size() / d points and k clusters (called once, after the input checks).
using KMeansBackendFactory = std::function<Status(std::span<const float> x, size_t d, std::span<const float> weights,
                                                  size_t k, std::unique_ptr<KMeansBackend>* out)>;

// The factory of a back end B constructed from (x, d, weights, k) that cannot fail.
template <class B>
KMeansBackendFactory BackendFactory() {
  return
      [](std::span<const float> x, size_t d, std::span<const float> w, size_t k, std::unique_ptr<KMeansBackend>* out) {
        *out = std::make_unique<B>(x, d, w, k);
        return Status::Ok();
      };
}

// k-means (enc_kmeans.h KMeans) with the passes of `make`'s back end. When k >= n there is nothing to
// iterate: every point is its own centroid, on the CPU whatever the back end.
Status RunKMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                 const KMeansBackendFactory& make, KMeansResult* out);

}  // namespace sdc
