// The error the encoder minimises. Per element it is importance * err^2: the user's importance where a tensor
// has some (one value, one per column, or one per element), else with relative distortion 1 / the row's mean
// square (every output channel's relative error counts the same), else 1.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "encoder/enc_options.h"
#include "format/safetensors.h"
#include "format/status.h"

namespace sdc {

// One weight per element of `t` (empty: every element weighs 1).
Status ExpandImportance(const TensorView& t, std::span<const float> w, uint64_t numel, const EncodeOptions& o,
                        std::vector<float>* out);

// Squared error, plain and weighted by `imp` (empty: unweighted), between `w` and a reconstruction stored as
// `dtype` little-endian values.
void MeasureError(std::span<const float> w, std::span<const float> imp, DType dtype, std::span<const uint8_t> recon,
                  double* sse, double* distortion);

// One stored F32/F16/BF16 value as binary32.
float LoadAsFloat(DType t, const uint8_t* p);

}  // namespace sdc
