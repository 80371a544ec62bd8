// CUDA k-means and nearest-centroid assignment (kmeans_cuda.h). Each kernel's per-thread work is a
// kernel_math.h function; this file only launches them and moves data.
#include <cublas_v2.h>  // types only: the library is opened with dlopen (see Cublas below)
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "encoder/cuda/cuda_util.cuh"
#include "encoder/cuda/kernel_math.h"
#include "encoder/cuda/kmeans_cuda.h"
#include "encoder/enc_kmeans_loop.h"

namespace sdc {
namespace cuda {
namespace {

constexpr unsigned kThreads = 128;
constexpr uint32_t kSharedFloats = 12288;              // 48 KiB of centroid tile per block
constexpr size_t kGemmChunkFloats = size_t{64} << 20;  // 256 MiB of x.c per GEMM

// ---------------------------------------------------------------------------------------------------------
// Device probe, once per process.
struct Probe {
  bool ok = false;
  std::string why, name;
};

__global__ void ProbeKernel(int* out) { *out = 42; }

Probe RunProbe() {
  Probe p;
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    if (void* lib = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL)) {
      dlclose(lib);
      p.why = cudaGetErrorString(e);
    } else {
      p.why = "no NVIDIA driver (libcuda.so.1 not found)";
    }
    cudaGetLastError();
    return p;
  }
  if (count <= 0) {
    p.why = "no CUDA-capable device";
    return p;
  }
  cudaDeviceProp prop{};
  if ((e = cudaSetDevice(0)) != cudaSuccess || (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
    p.why = cudaGetErrorString(e);
    cudaGetLastError();
    return p;
  }
  p.name = std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")";
  // A kernel must actually run: this build carries code for a few architectures only.
  int* d = nullptr;
  int got = 0;
  if ((e = cudaMalloc(&d, sizeof(int))) == cudaSuccess) {
    ProbeKernel<<<1, 1>>>(d);
    e = cudaGetLastError();
    if (e == cudaSuccess) e = cudaMemcpy(&got, d, sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(d);
  }
  if (e != cudaSuccess || got != 42) {
    p.why = p.name + ": " + (e != cudaSuccess ? cudaGetErrorString(e) : "probe kernel gave a wrong result");
    p.name.clear();
    cudaGetLastError();
    return p;
  }
  p.ok = true;
  return p;
}

const Probe& GetProbe() {
  static std::once_flag once;
  static Probe probe;
  std::call_once(once, [] { probe = RunProbe(); });
  return probe;
}

// ---------------------------------------------------------------------------------------------------------
// cuBLAS, opened on first use: linking it would make every binary load ~600 MB of libraries at start-up
// and fail to start where the toolkit is absent.
struct Cublas {
  bool ok = false;
  std::string why;
  void* lib = nullptr;
  cublasHandle_t handle = nullptr;
  cublasStatus_t (*create)(cublasHandle_t*) = nullptr;
  cublasStatus_t (*set_math)(cublasHandle_t, cublasMath_t) = nullptr;
  cublasStatus_t (*sgemm)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const float*,
                          const float*, int, const float*, int, const float*, float*, int) = nullptr;
};

Cublas LoadCublas() {
  Cublas c;
  const std::string so = "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR);
  c.lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
#ifdef SDC_CUBLAS_DIR
  if (!c.lib) c.lib = dlopen((std::string(SDC_CUBLAS_DIR) + "/" + so).c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
  if (!c.lib) {
    c.why = so + " not found";
    return c;
  }
  c.create = reinterpret_cast<decltype(c.create)>(dlsym(c.lib, "cublasCreate_v2"));
  c.set_math = reinterpret_cast<decltype(c.set_math)>(dlsym(c.lib, "cublasSetMathMode"));
  c.sgemm = reinterpret_cast<decltype(c.sgemm)>(dlsym(c.lib, "cublasSgemm_v2"));
  if (!c.create || !c.set_math || !c.sgemm) {
    c.why = so + " lacks cublasCreate_v2, cublasSetMathMode or cublasSgemm_v2";
    return c;
  }
  if (c.create(&c.handle) != CUBLAS_STATUS_SUCCESS) {
    c.why = "cublasCreate failed";
    return c;
  }
  // No TF32 or other reduced-precision shortcuts: GemmSlack assumes binary32 products and sums.
  if (c.set_math(c.handle, CUBLAS_PEDANTIC_MATH) != CUBLAS_STATUS_SUCCESS) {
    c.why = "cublasSetMathMode(CUBLAS_PEDANTIC_MATH) failed";
    return c;
  }
  c.ok = true;
  return c;
}

// Called with the lock held and the device ready. The handle lives as long as the process.
const Cublas& GetCublas() {
  static std::once_flag once;
  static Cublas lib;
  std::call_once(once, [] { lib = LoadCublas(); });
  return lib;
}

// ---------------------------------------------------------------------------------------------------------
// Kernels.

// One thread per point; the centroids pass through shared memory in tiles (tile = 0: read them from global
// memory, for dimensions too large for a tile). The winner does not depend on the tiling (MergeNearest).
__global__ void AssignDirectKernel(const float* __restrict__ x, uint32_t n, uint32_t d, const float* __restrict__ c,
                                   const float* __restrict__ pen, uint32_t k, uint32_t tile, uint32_t* assign,
                                   float* dist2) {
  extern __shared__ float sh[];
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  const bool live = i < n;
  const float* xi = x + static_cast<size_t>(live ? i : 0) * d;
  float best = kmath::InfF();
  uint32_t bj = kmath::kNoIndex;
  if (tile == 0) {
    if (live) kmath::NearestInRange(xi, d, c, pen, k, 0, &best, &bj);
  } else {
    float* shc = sh;
    float* shp = sh + static_cast<size_t>(tile) * d;
    for (uint32_t j0 = 0; j0 < k; j0 += tile) {
      const uint32_t m = min(tile, k - j0);
      __syncthreads();
      for (uint32_t q = threadIdx.x; q < m * d; q += blockDim.x) shc[q] = c[static_cast<size_t>(j0) * d + q];
      for (uint32_t q = threadIdx.x; q < m; q += blockDim.x) shp[q] = pen ? pen[j0 + q] : 0.0f;
      __syncthreads();
      if (live) kmath::NearestInRange(xi, d, shc, shp, m, j0, &best, &bj);
    }
  }
  if (!live) return;
  assign[i] = bj;
  if (dist2)
    dist2[i] = static_cast<float>(kmath::Dist2Exact(xi, c + static_cast<size_t>(bj) * d, d, pen ? pen[bj] : 0.0f));
}

// out[i] = v_i - mu (n rows of d) and norm[i] = |out_i|^2 (+ pen_i^2 when pen is given).
__global__ void CentreKernel(const float* __restrict__ v, uint32_t rows, uint32_t d, const float* __restrict__ mu,
                             const float* __restrict__ pen, float* out, float* norm) {
  const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= rows) return;
  const float* vi = v + static_cast<size_t>(i) * d;
  float* oi = out + static_cast<size_t>(i) * d;
  for (uint32_t t = 0; t < d; ++t) oi[t] = vi[t] - mu[t];
  float s = kmath::SqNorm(oi, d);
  if (pen) s = s + pen[i] * pen[i];
  norm[i] = s;
}

// One warp per point of a GEMM chunk: g holds x'.c'_j for j < k. Candidates within GemmSlack of the least
// approximation are re-scored exactly; warp reductions use min and MergeNearest (order-independent).
__global__ void GemmRefineKernel(const float* __restrict__ g, uint32_t i0, uint32_t nb, uint32_t k,
                                 const float* __restrict__ xn, const float* __restrict__ cn, float cnmax, uint32_t dd,
                                 const float* __restrict__ x, uint32_t d, const float* __restrict__ c,
                                 const float* __restrict__ pen, uint32_t* assign, float* dist2) {
  const uint32_t w = (blockIdx.x * blockDim.x + threadIdx.x) / 32, lane = threadIdx.x % 32;
  if (w >= nb) return;  // whole warps leave together
  const uint32_t i = i0 + w;
  const float* gi = g + static_cast<size_t>(w) * k;
  const float xni = xn[i];
  float amin = kmath::InfF();
  for (uint32_t j = lane; j < k; j += 32) amin = fminf(amin, kmath::GemmApprox(xni, cn[j], gi[j]));
  for (int off = 16; off > 0; off /= 2) amin = fminf(amin, __shfl_xor_sync(0xffffffffu, amin, off));
  const float limit = amin + kmath::GemmSlack(dd, xni, cnmax, amin);
  const float* xi = x + static_cast<size_t>(i) * d;
  float best = kmath::InfF();
  uint32_t bj = kmath::kNoIndex;
  for (uint32_t j = lane; j < k; j += 32)
    if (kmath::GemmApprox(xni, cn[j], gi[j]) <= limit)
      kmath::MergeNearest(kmath::SqDist(xi, c + static_cast<size_t>(j) * d, d, pen ? pen[j] : 0.0f), j, &best, &bj);
  for (int off = 16; off > 0; off /= 2) {
    const float ov = __shfl_xor_sync(0xffffffffu, best, off);
    const uint32_t oj = __shfl_xor_sync(0xffffffffu, bj, off);
    kmath::MergeNearest(ov, oj, &best, &bj);
  }
  if (lane != 0) return;
  assign[i] = bj;
  if (dist2)
    dist2[i] = static_cast<float>(kmath::Dist2Exact(xi, c + static_cast<size_t>(bj) * d, d, pen ? pen[bj] : 0.0f));
}

// One thread per cluster: kmath::AccumulateCluster over its members (in increasing point order).
__global__ void AccumulateKernel(const float* __restrict__ x, uint32_t d, const float* __restrict__ w,
                                 const uint32_t* __restrict__ perm, const uint64_t* __restrict__ start, uint32_t k,
                                 const float* __restrict__ c, double* sum, kmath::ClusterAcc* acc) {
  const uint32_t j = blockIdx.x * blockDim.x + threadIdx.x;
  if (j >= k) return;
  kmath::AccumulateCluster(x, d, w, perm + start[j], start[j + 1] - start[j], c + static_cast<size_t>(j) * d,
                           sum + static_cast<size_t>(j) * d, acc + j);
}

// ---------------------------------------------------------------------------------------------------------
// Assignment of points already on the device against centroids already on the device.
struct DevicePoints {
  const float* x = nullptr;  // n x d
  uint32_t n = 0, d = 0;
  std::vector<float> mu;         // centre for the GEMM path (d)
  DevBuf<float> xc, xn, mu_dev;  // centred points and their norms, made on first GEMM use
  bool centred = false;
};

struct Scratch {
  DevBuf<float> cc, cn, g;
};

// assign (and dist2 when non-null) for all points.
Status AssignOnDevice(DevicePoints& p, const float* c, const float* pen, uint32_t k, Scratch& s, uint32_t* assign,
                      float* dist2) {
  const uint32_t n = p.n, d = p.d;
  std::string why;
  if (d < kCudaGemmMinDim || !CudaGemmAvailable(&why)) {
    const uint32_t tile = std::min<uint32_t>(256, kSharedFloats / (d + 1));
    const size_t shared = static_cast<size_t>(tile) * (d + 1) * sizeof(float);
    AssignDirectKernel<<<Blocks(n, kThreads), kThreads, shared>>>(p.x, n, d, c, pen, k, tile, assign, dist2);
    return CheckLaunch("assignment kernel", true);
  }
  const Cublas& cb = GetCublas();
  if (!p.centred) {
    SDC_RETURN_IF_ERROR(p.mu_dev.Upload(p.mu.data(), d, "centre"));
    SDC_RETURN_IF_ERROR(p.xc.Alloc(static_cast<size_t>(n) * d, "centred points"));
    SDC_RETURN_IF_ERROR(p.xn.Alloc(n, "point norms"));
    CentreKernel<<<Blocks(n, kThreads), kThreads>>>(p.x, n, d, p.mu_dev.get(), nullptr, p.xc.get(), p.xn.get());
    SDC_RETURN_IF_ERROR(CheckLaunch("centring kernel"));
    p.centred = true;
  }
  SDC_RETURN_IF_ERROR(s.cc.Alloc(static_cast<size_t>(k) * d, "centred centroids"));
  SDC_RETURN_IF_ERROR(s.cn.Alloc(k, "centroid norms"));
  CentreKernel<<<Blocks(k, kThreads), kThreads>>>(c, k, d, p.mu_dev.get(), pen, s.cc.get(), s.cn.get());
  SDC_RETURN_IF_ERROR(CheckLaunch("centring kernel"));
  // cnmax on the host, from the same arithmetic (SqNorm of the same centred floats).
  float cnmax = 0.0f;
  {
    std::vector<float> cn(k);
    SDC_RETURN_IF_ERROR(s.cn.Download(cn.data(), k, "centroid norms"));
    for (float v : cn) cnmax = std::max(cnmax, v);
  }
  const uint32_t dd = d + (pen ? 1u : 0u);
  const size_t nb_max = std::max<size_t>(1, std::min<size_t>(n, kGemmChunkFloats / k));
  SDC_RETURN_IF_ERROR(s.g.Alloc(nb_max * k, "distance matrix"));
  const float one = 1.0f, zero = 0.0f;
  for (uint32_t i0 = 0; i0 < n; i0 += static_cast<uint32_t>(nb_max)) {
    const uint32_t nb = static_cast<uint32_t>(std::min<size_t>(nb_max, n - i0));
    // Column-major: G (k x nb) = C'^T (k x d) * X' (d x nb), C' and X' being row-major k x d and nb x d.
    if (cb.sgemm(cb.handle, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(k), static_cast<int>(nb), static_cast<int>(d),
                 &one, s.cc.get(), static_cast<int>(d), p.xc.get() + static_cast<size_t>(i0) * d, static_cast<int>(d),
                 &zero, s.g.get(), static_cast<int>(k)) != CUBLAS_STATUS_SUCCESS)
      return Status(StatusCode::kUnsupported, "CUDA: cublasSgemm failed");
    const size_t threads = static_cast<size_t>(nb) * 32;
    GemmRefineKernel<<<Blocks(threads, kThreads), kThreads>>>(s.g.get(), i0, nb, k, p.xn.get(), s.cn.get(), cnmax, dd,
                                                              p.x, d, c, pen, assign, dist2);
    SDC_RETURN_IF_ERROR(CheckLaunch("GEMM refinement kernel", true));
  }
  return Status::Ok();
}

std::vector<float> Mean(const float* v, size_t rows, size_t d) {
  std::vector<double> s(d, 0.0);
  for (size_t i = 0; i < rows; ++i)
    for (size_t t = 0; t < d; ++t) s[t] += v[i * d + t];
  std::vector<float> m(d);
  for (size_t t = 0; t < d; ++t) m[t] = rows ? static_cast<float>(s[t] / static_cast<double>(rows)) : 0.0f;
  return m;
}

// ---------------------------------------------------------------------------------------------------------
// The k-means passes of the shared loop (enc_kmeans_loop.h) as kernels, the points kept on the device.
class CudaKMeansBackend : public KMeansBackend {
 public:
  Status Init(std::span<const float> x, size_t d, std::span<const float> w, size_t k) {
    n_ = static_cast<uint32_t>(x.size() / d);
    d_ = static_cast<uint32_t>(d);
    k_ = static_cast<uint32_t>(k);
    SDC_RETURN_IF_ERROR(x_.Upload(x.data(), x.size(), "upload points"));
    if (!w.empty()) SDC_RETURN_IF_ERROR(w_.Upload(w.data(), w.size(), "upload weights"));
    weighted_ = !w.empty();
    SDC_RETURN_IF_ERROR(assign_.Alloc(n_, "assignments"));
    SDC_RETURN_IF_ERROR(perm_.Alloc(n_, "cluster members"));
    SDC_RETURN_IF_ERROR(start_.Alloc(k_ + 1, "cluster offsets"));
    SDC_RETURN_IF_ERROR(c_.Alloc(static_cast<size_t>(k_) * d_, "centroids"));
    SDC_RETURN_IF_ERROR(sum_.Alloc(static_cast<size_t>(k_) * d_, "cluster sums"));
    SDC_RETURN_IF_ERROR(acc_.Alloc(k_, "cluster statistics"));
    pts_.x = x_.get();
    pts_.n = n_;
    pts_.d = d_;
    pts_.mu = Mean(x.data(), n_, d);
    return Status::Ok();
  }
  Status AssignAll(const float* centroids, uint32_t* assign) override {
    std::lock_guard<std::mutex> lock(Lock());
    SDC_RETURN_IF_ERROR(Ready());
    SDC_RETURN_IF_ERROR(c_.Upload(centroids, static_cast<size_t>(k_) * d_, "upload centroids"));
    SDC_RETURN_IF_ERROR(AssignOnDevice(pts_, c_.get(), nullptr, k_, scratch_, assign_.get(), nullptr));
    return assign_.Download(assign, n_, "download assignments");
  }
  Status Accumulate(const float* centroids, ClusterStats* cs) override {
    std::lock_guard<std::mutex> lock(Lock());
    SDC_RETURN_IF_ERROR(Ready());
    SDC_RETURN_IF_ERROR(perm_.Upload(cs->perm.data(), n_, "upload cluster members"));
    SDC_RETURN_IF_ERROR(start_.Upload(cs->start.data(), k_ + 1, "upload cluster offsets"));
    SDC_RETURN_IF_ERROR(c_.Upload(centroids, static_cast<size_t>(k_) * d_, "upload centroids"));
    AccumulateKernel<<<Blocks(k_, kThreads), kThreads>>>(x_.get(), d_, weighted_ ? w_.get() : nullptr, perm_.get(),
                                                         start_.get(), k_, c_.get(), sum_.get(), acc_.get());
    SDC_RETURN_IF_ERROR(CheckLaunch("accumulation kernel", true));
    SDC_RETURN_IF_ERROR(sum_.Download(cs->sum.data(), static_cast<size_t>(k_) * d_, "download cluster sums"));
    return acc_.Download(cs->acc.data(), k_, "download cluster statistics");
  }

 private:
  uint32_t n_ = 0, d_ = 0, k_ = 0;
  bool weighted_ = false;
  DevBuf<float> x_, w_, c_;
  DevBuf<uint32_t> assign_, perm_;
  DevBuf<uint64_t> start_;
  DevBuf<double> sum_;
  DevBuf<kmath::ClusterAcc> acc_;
  DevicePoints pts_;
  Scratch scratch_;
};

}  // namespace

std::mutex& Lock() {
  static std::mutex mu;
  return mu;
}

Status Ready() {
  std::string why;
  if (!CudaDeviceAvailable(&why)) return Status(StatusCode::kUnsupported, "no CUDA device: " + why);
  SDC_CUDA_TRY("cudaSetDevice", cudaSetDevice(0));
  return Status::Ok();
}

}  // namespace cuda

bool CudaDeviceAvailable(std::string* why) {
  const cuda::Probe& p = cuda::GetProbe();
  if (!p.ok && why) *why = p.why;
  return p.ok;
}

std::string CudaDeviceName() { return cuda::GetProbe().name; }

bool CudaGemmAvailable(std::string* why) {
  if (!CudaDeviceAvailable(why)) return false;
  if (cudaSetDevice(0) != cudaSuccess) {
    if (why) *why = "cudaSetDevice failed";
    return false;
  }
  const cuda::Cublas& c = cuda::GetCublas();
  if (!c.ok && why) *why = c.why;
  return c.ok;
}

Status AssignNearestCuda(std::span<const float> x, size_t d, std::span<const float> centroids,
                         std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2) {
  if (d == 0) return Status::Ok();
  const size_t n = x.size() / d, k = centroids.size() / d;
  if (k == 0) {
    std::fill(assign.begin(), assign.end(), 0u);
    std::fill(dist2.begin(), dist2.end(), kmath::InfF());
    return Status::Ok();
  }
  if (n == 0) return Status::Ok();
  SDC_CHECK(n <= UINT32_MAX && k <= UINT32_MAX && d <= UINT32_MAX, StatusCode::kInvalidArgument,
            "AssignNearestCuda: more than 2^32-1 points, centroids or dimensions");
  SDC_CHECK(penalty.empty() || penalty.size() == k, StatusCode::kInvalidArgument,
            "AssignNearestCuda: penalty must be empty or one value per centroid");
  std::lock_guard<std::mutex> lock(cuda::Lock());
  SDC_RETURN_IF_ERROR(cuda::Ready());
  cuda::DevBuf<float> xd, cd, pd, d2;
  cuda::DevBuf<uint32_t> ad;
  SDC_RETURN_IF_ERROR(xd.Upload(x.data(), n * d, "upload points"));
  SDC_RETURN_IF_ERROR(cd.Upload(centroids.data(), k * d, "upload centroids"));
  if (!penalty.empty()) SDC_RETURN_IF_ERROR(pd.Upload(penalty.data(), k, "upload penalties"));
  SDC_RETURN_IF_ERROR(ad.Alloc(n, "assignments"));
  if (!dist2.empty()) SDC_RETURN_IF_ERROR(d2.Alloc(n, "distances"));
  cuda::DevicePoints pts;
  pts.x = xd.get();
  pts.n = static_cast<uint32_t>(n);
  pts.d = static_cast<uint32_t>(d);
  if (d >= kCudaGemmMinDim) pts.mu = cuda::Mean(centroids.data(), k, d);  // centre on the centroids (as the CPU)
  cuda::Scratch s;
  SDC_RETURN_IF_ERROR(cuda::AssignOnDevice(pts, cd.get(), penalty.empty() ? nullptr : pd.get(),
                                           static_cast<uint32_t>(k), s, ad.get(), dist2.empty() ? nullptr : d2.get()));
  SDC_RETURN_IF_ERROR(ad.Download(assign.data(), n, "download assignments"));
  if (!dist2.empty()) SDC_RETURN_IF_ERROR(d2.Download(dist2.data(), n, "download distances"));
  return Status::Ok();
}

Status KMeansCuda(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                  KMeansResult* out) {
  return RunKMeans(
      x, d, weights, opt,
      [](std::span<const float> xs, size_t dim, std::span<const float> w, size_t k, std::unique_ptr<KMeansBackend>* o) {
        std::lock_guard<std::mutex> lock(cuda::Lock());
        SDC_RETURN_IF_ERROR(cuda::Ready());
        auto backend = std::make_unique<cuda::CudaKMeansBackend>();
        SDC_RETURN_IF_ERROR(backend->Init(xs, dim, w, k));
        *o = std::move(backend);
        return Status::Ok();
      },
      out);
}

}  // namespace sdc
