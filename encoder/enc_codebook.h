// Codebook (vector and additive) quantization search, the AQLM family: rows are normalised by per-group
// RMS scales; their sub-vectors are coded by M codebooks (banks) whose entries are summed, each weighted by
// a per-tensor mixing coefficient. Banks are learned by k-means (stage m on the residual of stages < m),
// then refined by alternating beam-search code assignment with least-squares bank updates. Assignment can
// be entropy-constrained: cost = squared error + lambda * code length in bits, the lengths taken from the
// previous pass's index histogram — low-entropy index streams are where codebooks beat scalar codes in bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "decoder/dec_codebook.h"
#include "encoder/device.h"
#include "format/status.h"
#include "format/tensor_layout.h"

namespace sdc {

struct CodebookSearch {
  uint32_t dim = 8;
  uint32_t k = 256;
  int codebooks = 1;        // M, 1..8
  uint32_t group_size = 0;  // scales per row (0) or per group (a multiple of dim)
  int kmeans_iterations = 15;
  int refine_rounds = 2;  // beam assignment + least-squares bank update rounds (M >= 2)
  int beam = 4;           // beam width of the additive code search
  uint64_t max_training_vectors = 1u << 18;
  uint64_t seed = 1;
  // Where k-means, the nearest-entry assignment and the beam search run (encoder/device.h); kAuto and kCuda
  // are resolved on each call (the device probe itself runs once per process). Every interface defaults to
  // auto: a GPU where one is usable, else the CPU. `gpu` is what kCuda means: null for this build's CUDA
  // device; tests pass the CPU emulation of its kernels (cuda/gpu_emulation.h).
  Device device = Device::kAuto;
  const GpuBackend* gpu = nullptr;
  std::function<void(const std::string&)> progress;  // k-means iterations of bank training; may be empty
};

// M banks of k entries of dimension dim, values already rounded to F16 as they will be stored.
struct BankSet {
  uint32_t k = 0, dim = 0;
  std::vector<std::vector<float>> entries;  // M x (k * dim)
};

struct CodebookInput {
  std::span<const float> w;  // rows * cols finite values
  RowLayout rows;
  std::span<const float> importance = {};  // empty or one weight per element: weights the bank training
};

// Learns banks over the sub-vectors of every input (each normalised by its own scales); with importance,
// each sub-vector's k-means weight is the mean importance of its elements.
Status TrainBanks(std::span<const CodebookInput> inputs, const CodebookSearch& search, BankSet* out);

struct CodebookCodes {
  CodebookLayout layout;
  std::vector<float> coefficients;            // M
  std::vector<uint8_t> scales;                // little-endian, layout.scale_dtype
  std::vector<std::vector<uint8_t>> indices;  // M streams, layout.index_bytes per index
};

// Codes one tensor against `banks` with entropy penalty `lambda` (bits are weighted by lambda times the
// mean squared normalised value, so lambda is scale-free; 0: plain nearest search).
Status EncodeWithBanks(const CodebookInput& input, const BankSet& banks, const CodebookSearch& search, double lambda,
                       CodebookCodes* out);

// Bank entries as stored (F16, little-endian).
std::vector<uint8_t> SerializeBank(std::span<const float> entries);

}  // namespace sdc
