// The encoder façade: safetensors tensors in, an .sdc file out, either at fixed settings or fitted to a
// byte budget or a target SNR. The steps live in files named for them: options (enc_options), the search
// space (enc_search_space), candidates per representation (enc_candidates), planning and shared banks
// (enc_plan), the error measure (enc_distortion), fitting (enc_fit, enc_budget) and assembly (enc_assemble).
// Default policy (spec/format.md does not bind encoders; this is documented in README):
//   - integer, bool, F64 and F8 tensors, and float tensors holding NaN or inf: raw, lossless;
//   - float tensors of rank < 2 or fewer than `min_quant_numel` elements: raw (optionally cast to F16/BF16);
//   - every other float tensor: the chosen method (scalar by default).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "encoder/enc_options.h"
#include "format/safetensors.h"
#include "format/status.h"
#include "format/types.h"

namespace sdc {

struct TensorSummary {
  std::string name;
  Role role = Role::kOther;
  std::string representation;  // "raw", "raw(F16)", "scalar", "codebook"
  int bits = 0;                // scalar bits, 0 for raw
  uint64_t numel = 0;
  uint64_t stored_bytes = 0;  // its sections' stored bytes
  double sse = 0;             // squared error of the reconstruction
  double distortion = 0;      // the error the encoder minimised (enc_distortion.h; = sse without importance)
  double signal = 0;          // sum of squared original values
  double snr_db() const;
};

struct EncodeResult {
  std::vector<uint8_t> file;
  std::vector<TensorSummary> tensors;
};

// Every file Encode returns opens under the default decoder limits: inputs the format cannot hold (empty,
// duplicate or over-long names, rank above 8, shapes past the limits) are refused, never written.
Status Encode(const SafetensorsFile& input, const EncodeOptions& options, EncodeResult* out);

}  // namespace sdc
