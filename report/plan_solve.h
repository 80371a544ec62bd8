// `sdcodec plan --solve`: the budget question asked the other way round. Instead of the bytes of a given
// shape, the largest dim, MLP width, depth or number of unique (looped) blocks whose predicted file fits a
// byte budget, the other shape parameters fixed. The prediction is plan.h's, so the answer holds for the
// codec setting the measured file was encoded with.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "format/status.h"
#include "report/plan.h"

namespace sdc {

enum class SolveFor { kDim, kHidden, kLayers, kUniqueLayers };
std::optional<SolveFor> ParseSolveFor(const std::string& name);  // dim, hidden, layers, unique-layers
const char* SolveForName(SolveFor s);

struct SolveRequest {
  SolveFor what = SolveFor::kDim;
  double budget = 0;     // bytes the predicted file must fit in
  double mlp_ratio = 0;  // kDim: hidden = round(mlp_ratio x dim); 0 keeps the shape's hidden / dim
};

// The plan at the largest value that fits, with "solve" added: {parameter, budget_bytes, value, left_bytes,
// mlp_ratio (dim), bound (unique-layers: layers), next: the plan at the next value up, null when the value
// is at its bound}. dim moves in steps of the head count. Every total grows with the value, so the search
// doubles, then bisects. Fails naming the overshoot when even the smallest value does not fit, and for
// `layers` when some blocks are shared (only unique blocks cost bytes: solve unique-layers).
Status Solve(const ModelShape& shape, const MeasuredRates& rates, const SolveRequest& request,
             nlohmann::ordered_json* out);

}  // namespace sdc
