// Fitting a whole file: choose one candidate per tensor so that the file meets a byte budget with the least
// (weighted) error, or reaches a target SNR in the fewest bytes. Files are built and measured, never estimated.
#pragma once

#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_plan.h"
#include "encoder/encoder.h"

namespace sdc {

// Fits the file into budget - reserve. `with_shared_banks` offers the shared-bank codebook candidates, with
// the banks' bytes set aside. On kBudget, *min_budget is the smallest feasible budget.
Status FitBudget(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
                 const EncodeOptions& o, bool with_shared_banks, EncodeResult* out, uint64_t* min_budget);

// The smallest allocation whose total squared error meets the target SNR over all float tensors.
Status FitSnr(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
              const EncodeOptions& o, EncodeResult* out);

// Sum of the tensors' weighted errors.
double TotalError(const EncodeResult& r);

}  // namespace sdc
