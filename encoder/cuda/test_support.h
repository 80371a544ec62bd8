// Data and comparison helpers of the GPU-path tests (kernel_math_test.cc, gpu_path_test.cc,
// cuda_compare_test.cc).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "encoder/enc_kmeans_rng.h"

namespace sdc::gputest {

// Deterministic standard normal values (splitmix64, the k-means seeding's generator, + Box-Muller): the
// same on every machine.
struct Normal {
  kmeans::Rng rng;
  double Uniform() { return (static_cast<double>(rng.Next() >> 11) + 0.5) * 0x1.0p-53; }
  float operator()() {
    return static_cast<float>(std::sqrt(-2.0 * std::log(Uniform())) * std::cos(6.283185307179586 * Uniform()));
  }
};

inline std::vector<float> Gaussian(size_t count, uint64_t seed, float sigma = 1.0f, float shift = 0.0f) {
  Normal g{seed};
  std::vector<float> v(count);
  for (float& x : v) x = shift + sigma * g();
  return v;
}

// n points of dimension d around `clusters` centres that are ~`spread` apart, with unit noise.
inline std::vector<float> Clustered(size_t n, size_t d, size_t clusters, float spread, uint64_t seed) {
  const std::vector<float> centres = Gaussian(clusters * d, seed, spread);
  Normal g{seed + 1};
  std::vector<float> x(n * d);
  for (size_t i = 0; i < n; ++i)
    for (size_t t = 0; t < d; ++t) x[i * d + t] = centres[(i % clusters) * d + t] + g();
  return x;
}

// The assignment tolerance of the GPU-against-CPU comparisons. It was written for a CPU argmin on
// |c'|^2 - 2 x'.c' (coordinates centred on the centroid mean) with the rounding bound (d + 8) 2^-21
// (|x'|^2 + max |c'|^2); the CPU kernels now compute direct float distances (enc_kmeans_simd.h), whose
// error is within that bound. The GPU's argmin is on binary32 sums of squares (relative error below 1e-6
// for d <= 16).
// Two assignments must agree wherever the two least exact distances differ by more than
//     max(1e-5 * second, (d + 8) 2^-21 (|x'|^2 + max |c'|^2)),
// d counting the penalty coordinate when there is one. Elsewhere either centroid is a correct answer.
struct Ambiguity {
  std::vector<uint8_t> ambiguous;  // per point
  size_t count = 0;
};

inline Ambiguity FindAmbiguous(std::span<const float> x, size_t d, std::span<const float> c,
                               std::span<const float> pen = {}) {
  const size_t n = x.size() / d, k = c.size() / d, dd = d + (pen.empty() ? 0 : 1);
  // Padded copies (the penalty as a coordinate) and the centroid mean.
  std::vector<double> mean(dd, 0.0);
  auto cv = [&](size_t j, size_t t) -> double { return t < d ? c[j * d + t] : pen[j]; };
  auto xv = [&](size_t i, size_t t) -> double { return t < d ? x[i * d + t] : 0.0; };
  for (size_t j = 0; j < k; ++j)
    for (size_t t = 0; t < dd; ++t) mean[t] += cv(j, t);
  for (double& m : mean) m /= static_cast<double>(k);
  double cmax2 = 0;
  for (size_t j = 0; j < k; ++j) {
    double s = 0;
    for (size_t t = 0; t < dd; ++t) s += (cv(j, t) - mean[t]) * (cv(j, t) - mean[t]);
    cmax2 = std::max(cmax2, s);
  }
  Ambiguity a;
  a.ambiguous.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    double b1 = std::numeric_limits<double>::infinity(), b2 = b1, x2 = 0;
    for (size_t t = 0; t < dd; ++t) x2 += (xv(i, t) - mean[t]) * (xv(i, t) - mean[t]);
    for (size_t j = 0; j < k; ++j) {
      double s = 0;
      for (size_t t = 0; t < dd; ++t) s += (xv(i, t) - cv(j, t)) * (xv(i, t) - cv(j, t));
      if (s < b1)
        b2 = b1, b1 = s;
      else if (s < b2)
        b2 = s;
    }
    const double tol = std::max(1e-5 * b2, static_cast<double>(dd + 8) * 0x1.0p-21 * (x2 + cmax2));
    if (k > 1 && b2 - b1 <= tol) a.ambiguous[i] = 1, ++a.count;
  }
  return a;
}

// Points whose assignments differ although they are not ambiguous.
inline size_t UnambiguousMismatches(std::span<const uint32_t> a, std::span<const uint32_t> b, const Ambiguity& amb) {
  size_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) bad += a[i] != b[i] && !amb.ambiguous[i];
  return bad;
}

}  // namespace sdc::gputest
