#include "encoder/device.h"

#include <atomic>
#include <vector>

#include "encoder/cuda/kmeans_driver.h"
#ifdef SDC_HAVE_CUDA
#include "encoder/cuda/kmeans_cuda.h"
#endif

namespace sdc {
namespace {

std::atomic<bool> g_emulate{false};

// Whether kCuda can run here, and why not.
bool CudaUsable(std::string* why, std::string* name) {
  if (g_emulate.load()) {
    *name = "CUDA emulation on the CPU (tests)";
    return true;
  }
#ifdef SDC_HAVE_CUDA
  if (!CudaDeviceAvailable(why)) {
    *why = "no CUDA device: " + *why;
    return false;
  }
  *name = CudaDeviceName();
  return true;
#else
  *why = "this build has no CUDA support";
  return false;
#endif
}

}  // namespace

const char* DeviceName(Device d) {
  switch (d) {
    case Device::kAuto: return "auto";
    case Device::kCpu: return "cpu";
    case Device::kCuda: return "cuda";
  }
  return "?";
}

bool ParseDevice(std::string_view s, Device* out) {
  if (s == "auto") return *out = Device::kAuto, true;
  if (s == "cpu") return *out = Device::kCpu, true;
  if (s == "cuda") return *out = Device::kCuda, true;
  return false;
}

bool BuiltWithCuda() {
#ifdef SDC_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

void SetCudaEmulationForTesting(bool on) { g_emulate.store(on); }

Status ResolveDevice(Device requested, Device* resolved, std::string* note) {
  if (requested == Device::kCpu) {
    *resolved = Device::kCpu;
    if (note) *note = "CPU";
    return Status::Ok();
  }
  std::string why, name;
  const bool usable = CudaUsable(&why, &name);
  if (requested == Device::kCuda && !usable) return Status(StatusCode::kUnsupported, "--device cuda: " + why);
  *resolved = usable ? Device::kCuda : Device::kCpu;
  if (note) *note = usable ? "GPU " + name : "CPU (" + why + ")";
  return Status::Ok();
}

Status KMeansOn(Device device, std::span<const float> x, size_t d, std::span<const float> weights,
                const KMeansOptions& opt, KMeansResult* out) {
  SDC_RETURN_IF_ERROR(ResolveDevice(device, &device));
  if (device == Device::kCpu) return KMeans(x, d, weights, opt, out);
  if (g_emulate.load()) return gpu::KMeansEmulated(x, d, weights, opt, out);
#ifdef SDC_HAVE_CUDA
  return KMeansCuda(x, d, weights, opt, out);
#else
  return Status(StatusCode::kInternal, "CUDA device resolved in a build without CUDA");
#endif
}

Status AssignNearestOn(Device device, std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2) {
  SDC_RETURN_IF_ERROR(ResolveDevice(device, &device));
  if (device == Device::kCpu) {
    if (penalty.empty()) {
      AssignNearest(x, d, centroids, assign, dist2);
      return Status::Ok();
    }
    // The penalty as a real coordinate: x' = (x, 0), c'_j = (c_j, penalty_j).
    const size_t n = d ? x.size() / d : 0, k = d ? centroids.size() / d : 0, dd = d + 1;
    std::vector<float> xp(n * dd, 0.0f), cp(k * dd);
    for (size_t i = 0; i < n; ++i)
      for (size_t t = 0; t < d; ++t) xp[i * dd + t] = x[i * d + t];
    for (size_t j = 0; j < k; ++j) {
      for (size_t t = 0; t < d; ++t) cp[j * dd + t] = centroids[j * d + t];
      cp[j * dd + d] = penalty[j];
    }
    AssignNearest(xp, dd, cp, assign, dist2);
    return Status::Ok();
  }
  if (g_emulate.load()) {
    gpu::AssignNearestEmulated(x, d, centroids, penalty, assign, dist2);
    return Status::Ok();
  }
#ifdef SDC_HAVE_CUDA
  return AssignNearestCuda(x, d, centroids, penalty, assign, dist2);
#else
  return Status(StatusCode::kInternal, "CUDA device resolved in a build without CUDA");
#endif
}

Status BeamAssignOnGpu(std::span<const float> x, uint32_t d, uint32_t k, uint32_t m_count, std::span<const float> banks,
                       std::span<const float> alpha, uint32_t beam, double lambda, std::span<const float> bits,
                       std::span<uint32_t> codes) {
  if (g_emulate.load()) {
    gpu::BeamAssignEmulated(x, d, k, m_count, banks, alpha, beam, lambda, bits, codes);
    return Status::Ok();
  }
#ifdef SDC_HAVE_CUDA
  return BeamAssignCuda(x, d, k, m_count, banks, alpha, beam, lambda, bits, codes);
#else
  return Status(StatusCode::kInternal, "CUDA beam search called in a build without CUDA");
#endif
}

}  // namespace sdc
