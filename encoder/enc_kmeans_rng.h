// The random numbers of k-means seeding (enc_kmeans_seed.cc): splitmix64, and uniform samples without
// replacement drawn from it. Sequential and seeded by KMeansOptions::seed, so the seeds never depend on
// threads, compilers or CPUs.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sdc::kmeans {

// splitmix64.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64); }
};

// `m` distinct indices of [0, n), uniformly (Floyd's algorithm), in increasing order.
inline std::vector<uint32_t> SampleIndices(size_t n, size_t m, Rng& rng) {
  std::vector<uint32_t> out;
  out.reserve(std::min(n, m));
  if (m >= n) {
    for (size_t i = 0; i < n; ++i) out.push_back(static_cast<uint32_t>(i));
    return out;
  }
  std::vector<uint8_t> taken(n, 0);
  for (size_t j = n - m; j < n; ++j) {
    const size_t t = rng.Below(j + 1);
    taken[taken[t] ? j : t] = 1;
  }
  for (size_t i = 0; i < n; ++i)
    if (taken[i]) out.push_back(static_cast<uint32_t>(i));
  return out;
}

}  // namespace sdc::kmeans
