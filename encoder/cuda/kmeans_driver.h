// Host side of the GPU encoder path, shared by the CUDA backend (kmeans_cuda.cu) and by its CPU emulation
// (this file's *Emulated functions, which run the kernels' per-thread bodies from kernel_math.h in plain
// loops). The emulation is what the CPU-only tests exercise: the same driver, the same arithmetic, only
// the launch and the memory transfers differ.
//
// K-means semantics are those of sdc::KMeans (enc_kmeans.h): the same input checks and messages, the same
// seeds (sdc::KMeansSeeds, the CPU's own seeding), the same update, re-seeding of empty clusters,
// fixed-point stop and final filling of empty clusters (gpu_path_test checks all of it against the CPU). What differs is the
// assignment pass: the GPU computes every distance (no Hamerly pruning) as kmath::SqDist and takes the
// exact argmin of those binary32 values (lowest index among ties), where the CPU argmin runs on
// |c|^2 - 2 x.c from its SIMD kernels. The two agree wherever the two nearest centroids are not within
// rounding of each other; cluster statistics are then identical (same members, same order, same doubles).
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

namespace sdc::gpu {

// The two data-parallel steps of a k-means iteration, on some device, over the points given at creation.
class KMeansKernels {
 public:
  virtual ~KMeansKernels() = default;
  // assign[i] = argmin_j (kmath::SqDist(x_i, c_j), j) for every point (n entries, on the host).
  virtual Status Assign(const float* centroids, uint32_t* assign) = 0;
  // For every cluster j: kmath::AccumulateCluster over perm[start[j], start[j+1]) against centroid j.
  // sum: k * d, acc: k.
  virtual Status Accumulate(const uint32_t* perm, const uint64_t* start, const float* centroids, double* sum,
                            kmath::ClusterAcc* acc) = 0;
};

// Makes the kernels for n = x.size() / d points (called once, after the input checks).
using KernelFactory = std::function<Status(std::span<const float> x, size_t d, std::span<const float> weights,
                                           size_t k, std::unique_ptr<KMeansKernels>* out)>;

// sdc::KMeans with its assignment and accumulation passes done by `make`'s kernels.
Status KMeansWithKernels(std::span<const float> x, size_t d, std::span<const float> weights,
                         const KMeansOptions& opt, const KernelFactory& make, KMeansResult* out);

// Stable bucketing of points by cluster: perm lists cluster 0's points in increasing order, then
// cluster 1's, ...; start has k + 1 offsets. Equal to the CPU k-means bucketing.
void BucketByCluster(std::span<const uint32_t> assign, size_t k, std::vector<uint64_t>* start,
                     std::vector<uint32_t>* perm);

// ---------------------------------------------------------------------------------------------------------
// CPU emulation of the CUDA functions (kmeans_cuda.h): the same results, bit for bit, as the GPU computes,
// given the kernels' arithmetic. Used by the tests and by `SetCudaEmulationForTesting` (device.h).

// assign[i] = argmin_j (SqDist(x_i, c_j, pen_j), j); dist2[i] (optional) = Dist2Exact to that centroid.
// penalty: empty, or one extra coordinate per centroid (the point's being 0).
void AssignNearestEmulated(std::span<const float> x, size_t d, std::span<const float> centroids,
                           std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2);

Status KMeansEmulated(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                      KMeansResult* out);

// Beam search of n = x.size() / d vectors: codes[v * M + m]. banks: M * k * d; alpha: M; bits: M * k or
// empty (no penalty). beam >= 1 (the search itself; the caller decides when a greedy pass is used instead).
void BeamAssignEmulated(std::span<const float> x, uint32_t d, uint32_t k, uint32_t m_count,
                        std::span<const float> banks, std::span<const float> alpha, uint32_t beam, double lambda,
                        std::span<const float> bits, std::span<uint32_t> codes);

}  // namespace sdc::gpu
