// CUDA beam search for additive codes (kmeans_cuda.h BeamAssignCuda): one thread per vector, running
// kmath::BeamSearchVector with its scratch in global memory interleaved across threads (element e of thread
// t at e * threads + t, so that a warp's accesses are contiguous).
#include <cuda_runtime.h>

#include <algorithm>
#include <mutex>

#include "encoder/cuda/cuda_util.cuh"
#include "encoder/cuda/kernel_math.h"
#include "encoder/cuda/kmeans_cuda.h"

namespace sdc {
namespace cuda {
namespace {

constexpr unsigned kBeamThreads = 128;
constexpr size_t kScratchBytes = size_t{256} << 20;  // per launch, across all threads
constexpr size_t kMaxThreads = size_t{1} << 18;

__global__ void BeamKernel(const float* __restrict__ x, uint64_t n, kmath::BeamProblem p, float* res, double* cost,
                           uint32_t* codes, double* ts, uint32_t* th, uint32_t* tj, uint32_t* out) {
  const size_t threads = static_cast<size_t>(gridDim.x) * blockDim.x;
  const size_t tid = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const kmath::BeamScratch s{res + tid, cost + tid, codes + tid, ts + tid, th + tid, tj + tid, threads};
  for (uint64_t v = tid; v < n; v += threads) kmath::BeamSearchVector(x + v * p.d, p, s, out + v * p.m_count);
}

}  // namespace
}  // namespace cuda

Status BeamAssignCuda(const BeamRequest& req, std::span<uint32_t> codes) {
  SDC_RETURN_IF_ERROR(req.Check(codes));
  SDC_CHECK(req.weights.empty(), StatusCode::kInvalidArgument, "beam search: the GPU search is unweighted");
  const size_t n = req.vectors(), d = req.d, m_count = req.m_count;
  if (n == 0) return Status::Ok();
  std::lock_guard<std::mutex> lock(cuda::Lock());
  SDC_RETURN_IF_ERROR(cuda::Ready());
  cuda::DevBuf<float> xd, bd, ad, bitsd, res;
  cuda::DevBuf<double> cost, ts;
  cuda::DevBuf<uint32_t> cds, th, tj, out;
  SDC_RETURN_IF_ERROR(xd.Upload(req.x.data(), n * d, "upload vectors"));
  SDC_RETURN_IF_ERROR(bd.Upload(req.banks.data(), req.banks.size(), "upload banks"));
  SDC_RETURN_IF_ERROR(ad.Upload(req.alpha.data(), req.alpha.size(), "upload coefficients"));
  if (!req.bits.empty()) SDC_RETURN_IF_ERROR(bitsd.Upload(req.bits.data(), req.bits.size(), "upload code lengths"));
  SDC_RETURN_IF_ERROR(out.Alloc(n * m_count, "codes"));

  const kmath::BeamProblem p = req.Problem(bd.get(), ad.get(), bitsd.get());
  const kmath::BeamScratchSize sz = kmath::ScratchSize(p);
  const size_t per_thread = sz.res * sizeof(float) + sz.cost * sizeof(double) + sz.codes * sizeof(uint32_t) +
                            sz.top * (sizeof(double) + 2 * sizeof(uint32_t));
  const size_t threads =
      std::min({(n + cuda::kBeamThreads - 1) / cuda::kBeamThreads * cuda::kBeamThreads, cuda::kMaxThreads,
                std::max<size_t>(cuda::kBeamThreads,
                                 cuda::kScratchBytes / per_thread / cuda::kBeamThreads * cuda::kBeamThreads)});
  SDC_RETURN_IF_ERROR(res.Alloc(sz.res * threads, "beam scratch"));
  SDC_RETURN_IF_ERROR(cost.Alloc(sz.cost * threads, "beam scratch"));
  SDC_RETURN_IF_ERROR(cds.Alloc(sz.codes * threads, "beam scratch"));
  SDC_RETURN_IF_ERROR(ts.Alloc(sz.top * threads, "beam scratch"));
  SDC_RETURN_IF_ERROR(th.Alloc(sz.top * threads, "beam scratch"));
  SDC_RETURN_IF_ERROR(tj.Alloc(sz.top * threads, "beam scratch"));
  cuda::BeamKernel<<<static_cast<unsigned>(threads / cuda::kBeamThreads), cuda::kBeamThreads>>>(
      xd.get(), n, p, res.get(), cost.get(), cds.get(), ts.get(), th.get(), tj.get(), out.get());
  SDC_RETURN_IF_ERROR(cuda::CheckLaunch("beam search kernel", true));
  return out.Download(codes.data(), n * m_count, "download codes");
}

}  // namespace sdc
