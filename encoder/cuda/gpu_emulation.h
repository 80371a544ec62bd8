// The CUDA kernels of the encoder emulated on the CPU, for tests: each GPU thread's body (kernel_math.h)
// run in plain loops, so the GPU path — dispatch, the shared k-means loop, the kernels' arithmetic — runs
// on machines without a GPU and gives what a GPU gives, bit for bit. Only where the kernels execute
// differs. Built into the test support library, never into the encoder.
//
// Against the CPU encoder the results differ only where two candidates are within rounding of each
// other: the GPU computes every distance (no pruning) as kmath::SqDist and takes the exact argmin of those
// binary32 values (lowest index among ties), where the CPU's SIMD kernels round differently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "encoder/beam_request.h"
#include "encoder/device.h"
#include "encoder/enc_kmeans.h"
#include "format/status.h"

namespace sdc::gpu {

// assign[i] = argmin_j (SqDist(x_i, c_j, pen_j), j); dist2[i] (optional) = Dist2Exact to that centroid.
// penalty: empty, or one extra coordinate per centroid (the point's being 0).
void AssignNearestEmulated(std::span<const float> x, size_t d, std::span<const float> centroids,
                           std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2);

// sdc::KMeans's loop with the CUDA back end's passes (KMeansCuda).
Status KMeansEmulated(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                      KMeansResult* out);

// The beam search of BeamAssignCuda (req.weights must be empty: the GPU search is unweighted).
Status BeamAssignEmulated(const BeamRequest& req, std::span<uint32_t> codes);

// A GPU back end (device.h) that is always available and runs the functions above: what a test passes as
// CodebookSearch::gpu to take the whole GPU path without a GPU.
class EmulatedGpu final : public GpuBackend {
 public:
  bool Available(std::string* name, std::string* why) const override;
  Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                KMeansResult* out) const override;
  Status AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign,
                       std::span<float> dist2) const override;
  Status BeamAssign(const BeamRequest& req, std::span<uint32_t> codes) const override;
};

}  // namespace sdc::gpu
