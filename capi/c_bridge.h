// What the C API and the Python package (python/src, built on the C API) share, so each is written once:
// the mapping of caller-given limits to decoder limits, and the validation of a caller's tensor.
#pragma once

#include "format/limits.h"
#include "format/safetensors.h"
#include "format/status.h"
#include "include/sdcodec/sdcodec.h"

namespace sdc::capi {

// Limits of 0 (or no struct) keep the decoder's defaults.
DecodeLimits LimitsOf(const sdc_limits* l);

// A caller's tensor as a view of its bytes: every field present, a known dtype, rank <= 8, and exactly
// numel * sizeof(dtype) bytes (shape products checked for overflow).
Status ToView(const sdc_tensor_in& t, TensorView* v);

}  // namespace sdc::capi
