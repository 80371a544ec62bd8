#include "encoder/enc_search_space.h"

#include <algorithm>
#include <cmath>

namespace sdc {

bool Searching(const EncodeOptions& o) { return o.budget > 0 || o.target_snr_db > 0; }

namespace {

// The fewest bits (2..8) whose Q = 2^(bits-1) - 1 reaches `levels` steps.
int BitsFor(double levels) {
  int b = kMinScalarBits;
  while (b < kMaxScalarBits && (1 << (b - 1)) - 1 < levels) ++b;
  return b;
}

// The largest absmax / rms over the groups of `w` (`cols` per row, `group` per group): how many rms a
// relative step's grid must reach for no group to fall back to absmax / Q.
double LargestCrest(std::span<const float> w, uint64_t cols, uint64_t group) {
  double crest = 0;
  for (uint64_t r0 = 0; r0 + cols <= w.size() && cols > 0; r0 += cols)
    for (uint64_t c0 = 0; c0 < cols; c0 += group) {
      double ss = 0, amax = 0;
      const uint64_t n = std::min(group, cols - c0);
      for (uint64_t i = 0; i < n; ++i) {
        const double v = w[r0 + c0 + i];
        ss += v * v, amax = std::max(amax, std::fabs(v));
      }
      if (ss > 0) crest = std::max(crest, amax / std::sqrt(ss / static_cast<double>(n)));
    }
  return crest;
}

}  // namespace

std::vector<ScalarSetting> ScalarSettings(std::span<const float> w, uint64_t cols, const EncodeOptions& o,
                                          bool rate_aware) {
  std::vector<ScalarSetting> out;
  const bool search = Searching(o);
  if (o.method == Method::kScalar || search)
    for (int b = search ? kMinScalarBits : o.bits; b <= (search ? kMaxScalarBits : o.bits); ++b)
      out.push_back({b, 0.0f});
  if (!search || w.empty()) return out;
  double ss = 0, amax = 0;
  for (float v : w) ss += static_cast<double>(v) * v, amax = std::max(amax, std::fabs(static_cast<double>(v)));
  const double rms = std::sqrt(ss / static_cast<double>(w.size()));
  if (!(rms > 0)) return out;
  // A step setting, then (with a Hessian) the same at each rate weight: each rate-aware setting follows the one
  // it takes its entropy model from (enc_scalar_search.cc).
  auto offer = [&](ScalarSetting s) {
    out.push_back(s);
    if (rate_aware)
      for (double lambda : o.rate_lambdas)
        if (lambda > 0) out.push_back({s.bits, s.uniform_step, lambda, s.relative_step});
  };
  // Steps on one absolute grid for every tensor (three per octave), so the allocator can give all tensors
  // the same step — the MSE optimum for a common slope — from about 0.5 to 8.5 bits per weight. Each gets the
  // fewest bits whose Q reaches the largest weight unclipped.
  const int k_hi = static_cast<int>(std::floor(-3.0 * std::log2(rms * std::exp2(-8.0))));
  for (int k = k_hi - 22; k <= k_hi; ++k) {
    const double step = std::exp2(-k / 3.0);
    offer({BitsFor(std::ceil(amax / step)), static_cast<float>(step)});
  }
  // Steps relative to each group's rms (three per octave, from 2 rms down to 1/16 rms: about 1 to 6 bits per
  // weight on Gaussian rows): entropy-coded uniform quantization under relative distortion, where the rows'
  // own scales matter and one absolute step does not fit. Each gets the fewest bits whose Q reaches the
  // largest group's absmax unclipped.
  const double crest = LargestCrest(w, cols, o.group_size == 0 ? cols : o.group_size);
  for (int k = -3; k <= 12 && crest > 0; ++k) {
    const double rel = std::exp2(-k / 3.0);
    offer({BitsFor(std::ceil(crest / rel)), 0.0f, 0.0, static_cast<float>(rel)});
  }
  return out;
}

std::vector<double> CodebookLambdas(const EncodeOptions& o) {
  return Searching(o) ? o.lambdas : std::vector<double>{o.lambda};
}

std::vector<double> ResidualFractions(const EncodeOptions& o) {
  if (Searching(o)) return o.residual_fractions;
  return {o.residual_fractions.empty() ? 0.0 : o.residual_fractions[0]};
}

}  // namespace sdc
