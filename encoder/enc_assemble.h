// Builds the .sdc file for one choice of candidate per tensor: shared banks (when some tensor uses them),
// every tensor's sections and manifest entry, assets, metadata and the encoder's settings string.
#pragma once

#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_plan.h"
#include "encoder/encoder.h"

namespace sdc {

Status Assemble(const std::vector<PlannedTensor>& plan, const std::vector<size_t>& pick, const SafetensorsFile& in,
                const SharedBanks& shared, const EncodeOptions& o, EncodeResult* out);

}  // namespace sdc
