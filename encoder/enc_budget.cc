#include "encoder/enc_budget.h"

#include <cmath>

namespace sdc {
namespace {

uint64_t TotalBytes(const std::vector<std::vector<RatePoint>>& choices, const std::vector<size_t>& pick) {
  uint64_t total = 0;
  for (size_t t = 0; t < choices.size(); ++t) total += choices[t][pick[t]].bytes;
  return total;
}

void PickForLambda(const std::vector<std::vector<RatePoint>>& choices, double lambda, std::vector<size_t>* pick) {
  pick->assign(choices.size(), 0);
  for (size_t t = 0; t < choices.size(); ++t) {
    double best = INFINITY;
    for (size_t c = 0; c < choices[t].size(); ++c) {
      const RatePoint& p = choices[t][c];
      const double cost = p.distortion + lambda * static_cast<double>(p.bytes);
      const RatePoint& b = choices[t][(*pick)[t]];
      if (cost < best || (cost == best && p.bytes < b.bytes)) best = cost, (*pick)[t] = c;
    }
  }
}

}  // namespace

size_t CheapestChoice(const std::vector<RatePoint>& choices) {
  size_t best = 0;
  for (size_t c = 1; c < choices.size(); ++c) {
    const RatePoint &p = choices[c], &b = choices[best];
    if (p.bytes < b.bytes || (p.bytes == b.bytes && p.distortion < b.distortion)) best = c;
  }
  return best;
}

bool AllocateBytes(const std::vector<std::vector<RatePoint>>& choices, uint64_t available, std::vector<size_t>* pick) {
  std::vector<size_t> cur(choices.size(), 0);
  for (size_t t = 0; t < choices.size(); ++t) cur[t] = CheapestChoice(choices[t]);
  if (TotalBytes(choices, cur) > available) return false;

  // Bisect log2(lambda): large lambda favours bytes, small favours error.
  double lo = -200, hi = 200;
  std::vector<size_t> trial;
  for (int it = 0; it < 80; ++it) {
    const double mid = 0.5 * (lo + hi);
    PickForLambda(choices, std::exp2(mid), &trial);
    if (TotalBytes(choices, trial) <= available) {
      hi = mid;
      cur = trial;
    } else {
      lo = mid;
    }
  }

  // Spend the remainder on the best error-per-byte upgrades that still fit.
  uint64_t used = TotalBytes(choices, cur);
  for (;;) {
    double best_gain = 0;
    size_t bt = 0, bc = 0;
    for (size_t t = 0; t < choices.size(); ++t) {
      const RatePoint& now = choices[t][cur[t]];
      for (size_t c = 0; c < choices[t].size(); ++c) {
        const RatePoint& p = choices[t][c];
        if (p.distortion >= now.distortion || p.bytes < now.bytes) continue;
        if (used - now.bytes + p.bytes > available) continue;
        const double extra = static_cast<double>(p.bytes - now.bytes);
        const double gain = (now.distortion - p.distortion) / (extra > 0 ? extra : 0.5);
        if (gain > best_gain) best_gain = gain, bt = t, bc = c;
      }
    }
    if (best_gain <= 0) break;
    used = used - choices[bt][cur[bt]].bytes + choices[bt][bc].bytes;
    cur[bt] = bc;
  }
  *pick = std::move(cur);
  return true;
}

}  // namespace sdc
