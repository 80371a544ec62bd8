#include "encoder/cuda/gpu_emulation.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "encoder/cuda/kernel_math.h"
#include "encoder/enc_kmeans_loop.h"

namespace sdc::gpu {
namespace {

// The k-means passes of KMeansCuda (kmeans_cuda.cu CudaBackend), one GPU thread's body per loop step.
class EmulatedKMeansBackend : public KMeansBackend {
 public:
  EmulatedKMeansBackend(std::span<const float> x, size_t d, std::span<const float> w, size_t k)
      : x_(x), d_(d), w_(w), k_(k) {}
  Status AssignAll(const float* centroids, uint32_t* assign) override {
    AssignNearestEmulated(x_, d_, std::span<const float>(centroids, k_ * d_), {},
                          std::span<uint32_t>(assign, x_.size() / d_), {});
    return Status::Ok();
  }
  Status Accumulate(const float* centroids, ClusterStats* cs) override {
    const uint32_t d = static_cast<uint32_t>(d_);
#pragma omp parallel for schedule(dynamic, 16)
    for (int64_t j = 0; j < static_cast<int64_t>(k_); ++j)
      kmath::AccumulateCluster(x_.data(), d, w_.empty() ? nullptr : w_.data(), cs->perm.data() + cs->start[j],
                               cs->start[j + 1] - cs->start[j], centroids + j * d_, cs->sum.data() + j * d_,
                               &cs->acc[j]);
    return Status::Ok();
  }

 private:
  std::span<const float> x_;
  size_t d_;
  std::span<const float> w_;
  size_t k_;
};

}  // namespace

void AssignNearestEmulated(std::span<const float> x, size_t d, std::span<const float> centroids,
                           std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2) {
  if (d == 0) return;
  const size_t n = x.size() / d, k = centroids.size() / d;
  const uint32_t dd = static_cast<uint32_t>(d);
  if (k == 0) {
    std::fill(assign.begin(), assign.end(), 0u);
    std::fill(dist2.begin(), dist2.end(), kmath::InfF());
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
  return RunKMeans(x, d, weights, opt, BackendFactory<EmulatedKMeansBackend>(), out);
}

Status BeamAssignEmulated(const BeamRequest& req, std::span<uint32_t> codes) {
  SDC_RETURN_IF_ERROR(req.Check(codes));
  SDC_CHECK(req.weights.empty(), StatusCode::kInvalidArgument, "beam search: the GPU search is unweighted");
  const kmath::BeamProblem p = req.Problem(req.banks.data(), req.alpha.data(), req.bits.data());
  const kmath::BeamScratchSize sz = kmath::ScratchSize(p);
  const int64_t n = static_cast<int64_t>(req.vectors());
  const uint32_t d = req.d, m_count = req.m_count;
#pragma omp parallel
  {
    std::vector<float> res(sz.res);
    std::vector<double> cost(sz.cost), top_score(sz.top);
    std::vector<uint32_t> cds(sz.codes), top_h(sz.top), top_j(sz.top);
    const kmath::BeamScratch s{res.data(), cost.data(), cds.data(), top_score.data(), top_h.data(), top_j.data(), 1};
#pragma omp for schedule(dynamic, 256)
    for (int64_t v = 0; v < n; ++v) kmath::BeamSearchVector(req.x.data() + v * d, p, s, codes.data() + v * m_count);
  }
  return Status::Ok();
}

bool EmulatedGpu::Available(std::string* name, std::string*) const {
  *name = "CUDA emulation on the CPU (tests)";
  return true;
}

Status EmulatedGpu::KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                           KMeansResult* out) const {
  return KMeansEmulated(x, d, weights, opt, out);
}

Status EmulatedGpu::AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids,
                                  std::span<const float> penalty, std::span<uint32_t> assign,
                                  std::span<float> dist2) const {
  AssignNearestEmulated(x, d, centroids, penalty, assign, dist2);
  return Status::Ok();
}

Status EmulatedGpu::BeamAssign(const BeamRequest& req, std::span<uint32_t> codes) const {
  return BeamAssignEmulated(req, codes);
}

}  // namespace sdc::gpu
