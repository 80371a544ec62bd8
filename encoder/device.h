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

#include "encoder/enc_kmeans.h"
#include "format/status.h"

namespace sdc {

enum class Device { kAuto, kCpu, kCuda };

// "auto", "cpu", "cuda".
const char* DeviceName(Device d);
bool ParseDevice(std::string_view s, Device* out);

// Whether this build has the CUDA path (-DSDC_CUDA=ON).
bool BuiltWithCuda();

// kCpu stays kCpu. kAuto becomes kCuda when a usable CUDA device exists, else kCpu. kCuda without one is
// an error: "this build has no CUDA support" or "no CUDA device: <reason>". *note (optional) gets a
// one-line description of the choice: "GPU NVIDIA H100 80GB HBM3 (sm_90)", "CPU (no CUDA device: ...)".
// The device probe runs once per process.
Status ResolveDevice(Device requested, Device* resolved, std::string* note = nullptr);

// The dispatcher. `device` must be resolved (kCpu or kCuda; kAuto is resolved here).
// KMeans: sdc::KMeans or KMeansCuda.
Status KMeansOn(Device device, std::span<const float> x, size_t d, std::span<const float> weights,
                const KMeansOptions& opt, KMeansResult* out);
// AssignNearest with an optional penalty coordinate per centroid (penalty: empty or one value per centroid;
// the point's coordinate is 0). On the CPU the penalty is appended as a real coordinate (d + 1).
Status AssignNearestOn(Device device, std::span<const float> x, size_t d, std::span<const float> centroids,
                       std::span<const float> penalty, std::span<uint32_t> assign, std::span<float> dist2);
// The GPU beam search (device kCuda only; the CPU beam search lives in enc_codebook.cc).
Status BeamAssignOnGpu(std::span<const float> x, uint32_t d, uint32_t k, uint32_t m_count, std::span<const float> banks,
                       std::span<const float> alpha, uint32_t beam, double lambda, std::span<const float> bits,
                       std::span<uint32_t> codes);

// Tests only: with `on`, kCuda is always available and runs the CPU emulation of the CUDA kernels
// (kmeans_driver.h) instead of CUDA, so the whole GPU path — dispatch, driver, kernel arithmetic — is
// exercised on machines without a GPU. Not thread-safe against concurrent encodes.
void SetCudaEmulationForTesting(bool on);

}  // namespace sdc
