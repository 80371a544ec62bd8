// The scalar candidates of one tensor: every setting of the search space (enc_search_space.h), the rate-aware
// ones after their twin without a rate term (whose codes give the entropy model), and — with a Hessian, where
// each setting costs a pass of error feedback over the whole tensor — a preselection on a sample of rows.
#pragma once

#include <span>
#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_options.h"

namespace sdc {

// Rows sampled to preselect settings; tensors with at most twice as many rows are coded in full at every setting.
constexpr uint64_t kSampleRows = 64;

// Appends the tensor's scalar candidates to *out. `factor`: the tensor's Hessian factor, or null.
Status ScalarCandidates(const TensorView& t, std::span<const float> w, const ErrorMeasure& m,
                        const HessianFactor* factor, const EncodeOptions& o, std::vector<Candidate>* out);

// Indices of the points on the lower convex hull of (bytes, error), cheapest first: the only points a
// Lagrangian allocator (min error + slope · bytes) can choose at any slope.
std::vector<size_t> LowerHull(std::span<const double> bytes, std::span<const double> error);

}  // namespace sdc
