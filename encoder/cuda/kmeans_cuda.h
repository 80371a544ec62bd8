// CUDA versions of the encoder's k-means, nearest-centroid assignment and additive-code beam search.
// Plain C++ interface (no CUDA types): built only with -DSDC_CUDA=ON (SDC_HAVE_CUDA), implemented in
// kmeans_cuda.cu and beam_cuda.cu. Callers normally go through the dispatcher in encoder/device.h.
//
// Results are those of the CPU emulation the tests run (gpu_emulation.h), bit for bit (the kernels run the
// same kernel_math.h functions, compiled with -fmad=false): deterministic run to run and independent of the
// launch configuration. Against the CPU functions they differ only where two candidates are within rounding
// of each other (see gpu_emulation.h). Every function returns an error Status (never aborts) when the CUDA
// runtime fails: no driver, no device, out of memory.
//
// Work runs on device 0, one call at a time (a process-wide mutex); the data is copied in and out per call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "encoder/beam_request.h"
#include "encoder/enc_kmeans.h"
#include "format/status.h"

namespace sdc {

// True when a CUDA device can run this build's kernels; otherwise false and *why says why ("no NVIDIA
// driver (libcuda.so.1 not found)", "no CUDA-capable device", ...). Probed once per process: the first
// call initialises the CUDA runtime; it never aborts on a machine without a driver or GPU.
bool CudaDeviceAvailable(std::string* why);
// "NVIDIA H100 80GB HBM3 (sm_90)" for device 0; empty when none is available.
std::string CudaDeviceName();
// Whether the large-dimension distance path can use cuBLAS (loaded on first use with dlopen, so that
// binaries neither need nor load libcublas unless a GEMM is wanted); *why says why not.
bool CudaGemmAvailable(std::string* why);

// sdc::AssignNearest on the GPU, with an optional penalty coordinate per centroid (penalty: empty or
// centroids.size() / d values; the point's coordinate is 0). Distances: a direct kernel for d below
// kCudaGemmMinDim; from there, x.c from cuBLAS SGEMM (|x|^2 + |c|^2 - 2 x.c) selects the candidates within a
// proven rounding bound of the least, and the direct arithmetic decides among them, so both paths return
// the same indices. dist2 (optional) is the exact-order double distance rounded to float.
inline constexpr size_t kCudaGemmMinDim = 32;
Status AssignNearestCuda(std::span<const float> x, size_t d, std::span<const float> centroids,
                         std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2);

// sdc::KMeans on the GPU: the shared loop (enc_kmeans_loop.h) with assignment and per-cluster accumulation
// as kernels (sums in double, members in increasing point order: no atomics); seeding and the small
// per-iteration bookkeeping stay on the host.
Status KMeansCuda(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                  KMeansResult* out);

// The additive-code beam search (one thread per vector), codes[v * M + m]; req.weights must be empty.
Status BeamAssignCuda(const BeamRequest& req, std::span<uint32_t> codes);

}  // namespace sdc
