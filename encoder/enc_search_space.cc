#include "encoder/enc_search_space.h"

#include <cmath>

namespace sdc {

bool Searching(const EncodeOptions& o) { return o.budget > 0 || o.target_snr_db > 0; }

std::vector<ScalarSetting> ScalarSettings(std::span<const float> w, const EncodeOptions& o, bool rate_aware) {
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
  // Steps on one absolute grid for every tensor (three per octave), so the allocator can give all tensors
  // the same step — the MSE optimum for a common slope — from about 0.5 to 8.5 bits per weight. Each gets the
  // fewest bits whose Q reaches the largest weight unclipped.
  const int k_hi = static_cast<int>(std::floor(-3.0 * std::log2(rms * std::exp2(-8.0))));
  for (int k = k_hi - 22; k <= k_hi; ++k) {
    const double step = std::exp2(-k / 3.0);
    const double levels = std::ceil(amax / step);
    int b = kMinScalarBits;
    while (b < kMaxScalarBits && (1 << (b - 1)) - 1 < levels) ++b;
    out.push_back({b, static_cast<float>(step)});
    if (rate_aware)
      for (double lambda : o.rate_lambdas)
        if (lambda > 0) out.push_back({b, static_cast<float>(step), lambda});
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
