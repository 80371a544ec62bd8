// Source tensors as binary32 values, for the lossy codecs.
#pragma once

#include <vector>

#include "encoder/enc_options.h"
#include "format/safetensors.h"

namespace sdc {

// Widens an F32/F16/BF16 tensor exactly to binary32. Returns false (leaving `out` unspecified) for any
// other dtype or when a value is NaN or infinite.
bool ToFiniteFloats(const TensorView& t, std::vector<float>* out);

// Calibration data for an encode, as every interface receives it (files on the command line, arrays in the C
// API and Python): importance per tensor (finite floats) and Hessians (square [in, in] finite floats), by the
// name of the tensor they belong to. Checked here once; the encoder checks them against the tensors.
Status AddImportance(std::span<const TensorView> importance, EncodeOptions* o);
Status AddHessians(std::span<const TensorView> hessians, EncodeOptions* o);

}  // namespace sdc
