// Reconstruction of the raw representation: a copy when stored in the tensor dtype, otherwise an F16 or
// BF16 value widened exactly to binary32 and rounded (nearest even) to the tensor's float dtype.
#pragma once

#include <cstdint>
#include <span>

#include "format/status.h"
#include "format/types.h"

namespace sdc {

Status ReconstructRaw(std::span<const uint8_t> stored, DType stored_dtype, DType out_dtype, std::span<uint8_t> out);

}  // namespace sdc
