#include "encoder/device.h"

#include <vector>

#ifdef SDC_HAVE_CUDA
#include "encoder/cuda/kmeans_cuda.h"
#endif

namespace sdc {
namespace {

#ifdef SDC_HAVE_CUDA
// The CUDA device 0 (kmeans_cuda.h).
class CudaBackend final : public GpuBackend {
 public:
  bool Available(std::string* name, std::string* why) const override {
    if (!CudaDeviceAvailable(why)) {
      *why = "no CUDA device: " + *why;
      return false;
    }
    *name = CudaDeviceName();
    return true;
  }
  Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                KMeansResult* out) const override {
    return KMeansCuda(x, d, weights, opt, out);
  }
  Status AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign,
                       std::span<float> dist2) const override {
    return AssignNearestCuda(x, d, centroids, penalty, assign, dist2);
  }
  Status BeamAssign(const BeamRequest& req, std::span<uint32_t> codes) const override {
    return BeamAssignCuda(req, codes);
  }
};
#endif

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

bool BuiltWithCuda() { return CudaGpu() != nullptr; }

const GpuBackend* CudaGpu() {
#ifdef SDC_HAVE_CUDA
  static const CudaBackend cuda;
  return &cuda;
#else
  return nullptr;
#endif
}

Status Place(Device requested, const GpuBackend* gpu, Placement* out, std::string* note) {
  if (requested == Device::kCpu) {
    *out = Placement::Cpu();
    if (note) *note = "CPU";
    return Status::Ok();
  }
  if (!gpu) gpu = CudaGpu();
  std::string why, name;
  const bool usable = gpu ? gpu->Available(&name, &why) : (why = "this build has no CUDA support", false);
  if (requested == Device::kCuda && !usable) return Status(StatusCode::kUnsupported, "--device cuda: " + why);
  out->gpu = usable ? gpu : nullptr;
  if (note) *note = usable ? "GPU " + name : "CPU (" + why + ")";
  return Status::Ok();
}

Status ResolveDevice(Device requested, Device* resolved, std::string* note, const GpuBackend* gpu) {
  Placement where;
  SDC_RETURN_IF_ERROR(Place(requested, gpu, &where, note));
  *resolved = where.gpu ? Device::kCuda : Device::kCpu;
  return Status::Ok();
}

Status KMeansOn(Placement where, std::span<const float> x, size_t d, std::span<const float> weights,
                const KMeansOptions& opt, KMeansResult* out) {
  if (where.gpu) return where.gpu->KMeans(x, d, weights, opt, out);
  return KMeans(x, d, weights, opt, out);
}

Status AssignNearestOn(Placement where, std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2) {
  if (where.gpu) return where.gpu->AssignNearest(x, d, centroids, penalty, assign, dist2);
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

}  // namespace sdc
