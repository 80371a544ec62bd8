// Rate allocation: choose one candidate encoding per tensor so that the total squared error is as small
// as possible while the bytes stay within what is available. Lagrangian search (minimise D + lambda * R
// per tensor, bisecting lambda to the smallest feasible value), then a greedy pass that spends what is
// left on the upgrades with the best error reduction per byte. Ties break by index: deterministic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sdc {

struct RatePoint {
  uint64_t bytes = 0;
  double distortion = 0;
};

// The cheapest of one tensor's choices: fewest bytes, then least error, then the lowest index.
size_t CheapestChoice(const std::vector<RatePoint>& choices);

// Returns false when even the cheapest choice of every tensor exceeds `available`.
bool AllocateBytes(const std::vector<std::vector<RatePoint>>& choices, uint64_t available, std::vector<size_t>* pick);

}  // namespace sdc
