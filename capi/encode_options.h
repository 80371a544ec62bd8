// Encode options by name, as a JSON object: the one mapping used by the C API and the Python package, with
// the CLI's option names (`sdcodec encode --help`) spelled with underscores: method, bits, group,
// zstd_level, raw_dtype, min_numel, budget, reserve, target_snr, distortion, alignment, roles ({glob: role}),
// k, dim, codebooks, per_tensor_banks, lambda, residuals ([fractions]), kmeans_iters, beam, seed, device.
// An unknown name or a value of the wrong type is an error, never ignored.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "encoder/encoder.h"

namespace sdc {

Status EncodeOptionsFromJson(const nlohmann::json& options, EncodeOptions* out);

}  // namespace sdc
