// The search space: which settings of each codec become candidates for a tensor. Without a budget or a
// target SNR one setting each (the options'); with one, a range the allocator chooses from.
#pragma once

#include <span>
#include <vector>

#include "encoder/enc_options.h"

namespace sdc {

constexpr int kMinScalarBits = 2, kMaxScalarBits = 8;

// With a budget or a target SNR the allocator chooses among many candidates per tensor.
bool Searching(const EncodeOptions& o);

struct ScalarSetting {
  int bits = 6;
  float uniform_step = 0;   // 0: clipped per-row (per-group) scales; else one step for every group
  double lambda = 0;        // rate weight of the rounding (enc_feedback.h); > 0 only with a Hessian
  float relative_step = 0;  // > 0: each group's step is this times the group's rms (enc_scalar.h)
};

// Scalar settings for a tensor of finite values `w` (`cols` per row): the options' bits (the method is
// scalar), or under a search every bit width 2..8 with clipped scales, uniform steps on one absolute grid,
// and steps relative to each group's rms. With a Hessian (`rate_aware`) every uniform and relative step is
// offered again at each of the options' rate weights.
std::vector<ScalarSetting> ScalarSettings(std::span<const float> w, uint64_t cols, const EncodeOptions& o,
                                          bool rate_aware = false);

// Codebook entropy penalties, and residual fractions, to try.
std::vector<double> CodebookLambdas(const EncodeOptions& o);
std::vector<double> ResidualFractions(const EncodeOptions& o);

}  // namespace sdc
