// The encoder façade: safetensors tensors in, an .sdc file out, either at fixed settings or fitted to a
// byte budget. Default policy (spec/format.md does not bind encoders; this is documented in README):
//   - integer, bool, F64 and F8 tensors, and float tensors holding NaN or inf: raw, lossless;
//   - float tensors of rank < 2 or fewer than `min_quant_numel` elements: raw (optionally cast to F16/BF16);
//   - every other float tensor: the chosen method (scalar by default).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "encoder/enc_codebook.h"
#include "format/safetensors.h"
#include "format/status.h"
#include "format/types.h"

namespace sdc {

enum class Method { kRaw, kScalar, kCodebook };

struct RoleOverride {
  std::string pattern;  // fnmatch-style glob on the tensor name
  Role role;
};

struct AssetInput {
  std::string name;
  std::vector<uint8_t> data;
};

struct EncodeOptions {
  Method method = Method::kScalar;
  int bits = 6;                    // scalar bits when no budget is given
  uint32_t group_size = 0;         // 0: one scale per row
  int zstd_level = 19;             // 0: store sections uncompressed
  std::optional<DType> raw_cast;   // F16 or BF16: lossy storage of raw float tensors
  uint64_t min_quant_numel = 1024;
  uint64_t budget = 0;             // whole-file byte budget; 0: none
  uint64_t reserve = 0;            // bytes kept free under the budget (e.g. the user's code)
  double target_snr_db = 0;        // without a budget: the smallest file whose weight SNR reaches this
  std::vector<RoleOverride> roles;
  std::vector<AssetInput> assets;
  uint32_t alignment = 0;
  // Codebook method: bank shape and search. Banks are shared by every codebook-coded tensor unless
  // `per_tensor_banks` (the independent-codebook baseline of the research note). `codebook.device`
  // (Device::kCpu by default; encoder/device.h) is where k-means, assignment and beam search run.
  CodebookSearch codebook;
  bool per_tensor_banks = false;
  double lambda = 0.0;                               // entropy penalty without a budget
  std::vector<double> lambdas = {0.0, 0.05, 0.15, 0.4};  // penalties offered to the budget allocator
  // Sparse residuals: fractions of a codebook tensor's elements whose (importance-weighted) largest errors
  // get an int8 correction; without a budget the first entry is used, with one each is a candidate.
  std::vector<double> residual_fractions = {0.0};
  // Importance per tensor name: one value (the whole tensor), one per column (input channel, e.g. the
  // diagonal of X^T X a trainer collected) or one per element. The error minimised everywhere is
  // sum(importance * err^2); tensors not listed weigh 1 per element.
  std::map<std::string, std::vector<float>> importance;
  // Tensors without importance: true weighs each row's error by 1 / its mean square (every output
  // channel's relative error counts the same); false minimises plain squared error.
  bool relative_distortion = true;
  // Called with a one-line message as each tensor is processed; may be empty.
  std::function<void(const std::string&)> progress;
};

struct TensorSummary {
  std::string name;
  Role role = Role::kOther;
  std::string representation;  // "raw", "raw(F16)", "scalar", "codebook"
  int bits = 0;                // scalar bits, 0 for raw
  uint64_t numel = 0;
  uint64_t stored_bytes = 0;   // its sections' stored bytes
  double sse = 0;              // squared error of the reconstruction
  double distortion = 0;       // importance-weighted squared error (= sse without importance)
  double signal = 0;           // sum of squared original values
  double snr_db() const;
};

struct EncodeResult {
  std::vector<uint8_t> file;
  std::vector<TensorSummary> tensors;
};

Status Encode(const SafetensorsFile& input, const EncodeOptions& options, EncodeResult* out);

}  // namespace sdc
