// Where the encoder's codebook work runs: k-means bank training, nearest-entry assignment (with the
// entropy penalty) and the additive-code beam search. Everything else (scalar coding, rate allocation,
// container writing) always runs on the CPU, and decoding never needs a GPU.
//
// Artifacts mean the same whichever device made them: the file format, the decoder and its bit-exact
// reconstruction do not depend on the device. The bytes can differ between a CPU and a GPU encode (k-means
// and greedy assignment break near-ties differently; the beam search is bit-identical), as they can
// between CPUs with different SIMD kernels; each device is deterministic on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "encoder/beam_request.h"
#include "encoder/enc_kmeans.h"
#include "format/status.h"

namespace sdc {

enum class Device { kAuto, kCpu, kCuda };

// "auto", "cpu", "cuda".
const char* DeviceName(Device d);
bool ParseDevice(std::string_view s, Device* out);

// Whether this build has the CUDA path (-DSDC_CUDA=ON).
bool BuiltWithCuda();

// What runs the codebook work when the device is kCuda: this build's CUDA device (CudaGpu()), or, in
// tests, the CPU emulation of its kernels (encoder/cuda/gpu_emulation.h), passed explicitly.
class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  // Whether it can run here: true with *name set ("NVIDIA H100 80GB HBM3 (sm_90)"), or false with *why
  // ("no CUDA device: no NVIDIA driver (libcuda.so.1 not found)").
  virtual bool Available(std::string* name, std::string* why) const = 0;
  // sdc::KMeans, AssignNearest (with the penalty of AssignNearestOn) and the beam search, on this back end.
  virtual Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                        KMeansResult* out) const = 0;
  virtual Status AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids,
                               std::span<const float> penalty, std::span<uint32_t> assign,
                               std::span<float> dist2) const = 0;
  virtual Status BeamAssign(const BeamRequest& req, std::span<uint32_t> codes) const = 0;
};

// The CUDA device's back end; null in builds without CUDA support.
const GpuBackend* CudaGpu();

// Where the work runs once the device is resolved: on a GPU back end, or on the CPU (gpu == nullptr).
struct Placement {
  const GpuBackend* gpu = nullptr;
  static Placement Cpu() { return Placement{}; }
};

// Resolves a requested device. kCpu stays the CPU. kAuto takes the GPU when it is available, else the CPU.
// kCuda without one is an error: "this build has no CUDA support" or "no CUDA device: <reason>". `gpu` is
// what stands for kCuda (null: CudaGpu()). *note (optional) gets a one-line description of the choice:
// "GPU NVIDIA H100 80GB HBM3 (sm_90)", "CPU (no CUDA device: ...)". The device probe runs once per process.
Status Place(Device requested, const GpuBackend* gpu, Placement* out, std::string* note = nullptr);
// The same choice as a Device (kCpu or kCuda).
Status ResolveDevice(Device requested, Device* resolved, std::string* note = nullptr, const GpuBackend* gpu = nullptr);

// The dispatchers.
Status KMeansOn(Placement where, std::span<const float> x, size_t d, std::span<const float> weights,
                const KMeansOptions& opt, KMeansResult* out);
// AssignNearest with an optional penalty coordinate per centroid (penalty: empty or one value per centroid;
// the point's coordinate is 0). On the CPU the penalty is appended as a real coordinate (d + 1).
Status AssignNearestOn(Placement where, std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2);

}  // namespace sdc
