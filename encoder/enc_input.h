// Source tensors as binary32 values, for the lossy codecs.
#pragma once

#include <vector>

#include "format/safetensors.h"

namespace sdc {

// Widens an F32/F16/BF16 tensor exactly to binary32. Returns false (leaving `out` unspecified) for any
// other dtype or when a value is NaN or infinite.
bool ToFiniteFloats(const TensorView& t, std::vector<float>* out);

}  // namespace sdc
