// encoder/enc_hessian and enc_feedback: the Hessian checks and factor, the H-weighted error, and the
// rate-aware error-feedback rounding.
#include "encoder/enc_feedback.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

#include "encoder/enc_hessian.h"
#include "encoder/enc_scalar.h"

namespace sdc {
namespace {

// A random E[x xᵀ] with correlated inputs of unequal scales: x = A z, H = A Aᵀ (+ tiny ridge) over `cols`.
std::vector<float> CorrelatedHessian(uint64_t cols, uint32_t seed, uint64_t rank = 0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  const uint64_t k = rank ? rank : cols;
  std::vector<double> a(cols * k);
  for (uint64_t i = 0; i < cols; ++i) {
    const double scale = std::exp(1.5 * n(rng));  // channels of very different magnitude
    for (uint64_t j = 0; j < k; ++j) a[i * k + j] = scale * (n(rng) + (j == i % k ? 2.0 : 0.0));
  }
  std::vector<float> h(cols * cols);
  for (uint64_t i = 0; i < cols; ++i)
    for (uint64_t j = 0; j < cols; ++j) {
      double s = 0;
      for (uint64_t t = 0; t < k; ++t) s += a[i * k + t] * a[j * k + t];
      h[i * cols + j] = static_cast<float>(s / static_cast<double>(k));
    }
  return h;
}

std::vector<float> Gaussian(size_t n, uint32_t seed, double sd = 0.05) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, static_cast<float>(sd));
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

std::vector<double> Checked(const std::vector<float>& h, uint64_t cols) {
  std::vector<double> out;
  EXPECT_TRUE(CheckHessian(h, cols, &out).ok());
  return out;
}

// tr(ΔW H ΔWᵀ) equals Σ_r Σ_ij Δ_ri H_ij Δ_rj computed term by term, and ‖ΔW L‖² for H = L Lᵀ.
TEST(HessianWeightedError, EqualsItsDefinition) {
  const uint64_t rows = 3, cols = 4;
  const std::vector<float> hf = CorrelatedHessian(cols, 1);
  const std::vector<double> h = Checked(hf, cols);
  const std::vector<float> w = Gaussian(rows * cols, 2, 1.0), r = Gaussian(rows * cols, 3, 1.0);
  double expect = 0;
  for (uint64_t i = 0; i < rows; ++i)
    for (uint64_t a = 0; a < cols; ++a)
      for (uint64_t b = 0; b < cols; ++b)
        expect += (static_cast<double>(w[i * cols + a]) - r[i * cols + a]) * h[a * cols + b] *
                  (static_cast<double>(w[i * cols + b]) - r[i * cols + b]);
  EXPECT_NEAR(HessianWeightedError(w, r, rows, h), expect, 1e-12 * std::fabs(expect));
  // Row weights scale each row's term.
  const std::vector<double> rho = {2.0, 0.0, 0.5};
  double weighted = 0;
  for (uint64_t i = 0; i < rows; ++i)
    weighted +=
        rho[i] * HessianWeightedError(std::span(w).subspan(i * cols, cols), std::span(r).subspan(i * cols, cols), 1, h);
  EXPECT_NEAR(HessianWeightedError(w, r, rows, h, rho), weighted, 1e-12 * std::fabs(weighted));
  // H = I: the plain squared error.
  std::vector<double> eye(cols * cols, 0.0);
  for (uint64_t i = 0; i < cols; ++i) eye[i * cols + i] = 1;
  double sse = 0;
  for (size_t i = 0; i < w.size(); ++i) sse += (static_cast<double>(w[i]) - r[i]) * (static_cast<double>(w[i]) - r[i]);
  EXPECT_NEAR(HessianWeightedError(w, r, rows, eye), sse, 1e-12 * sse);
}

// Uᵀ U = (H + δ I)⁻¹ in the factor's column order, and act-order sorts by decreasing diag H.
TEST(FactorHessian, InverseCholeskyOfTheDampedHessian) {
  const uint64_t n = 24;
  const std::vector<double> h = Checked(CorrelatedHessian(n, 4), n);
  for (bool act_order : {false, true}) {
    HessianFactor f;
    ASSERT_TRUE(FactorHessian(h, n, 0.01, act_order, &f).ok());
    double mean = 0;
    for (uint64_t i = 0; i < n; ++i) mean += h[i * n + i] / n;
    for (uint64_t j = 1; j < n && act_order; ++j)
      EXPECT_GE(h[f.order[j - 1] * n + f.order[j - 1]], h[f.order[j] * n + f.order[j]]);
    // (Uᵀ U) A = I with A the damped H in order.
    for (uint64_t i = 0; i < n; ++i)
      for (uint64_t j = 0; j < n; ++j) {
        double s = 0;
        for (uint64_t k = 0; k < n; ++k) {
          double utu = 0;
          for (uint64_t t = 0; t <= std::min(i, k); ++t) utu += static_cast<double>(f.u[t * n + i]) * f.u[t * n + k];
          s += utu * (h[f.order[k] * n + f.order[j]] + (k == j ? 0.01 * mean : 0.0));
        }
        EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 2e-3) << i << "," << j;
      }
    for (uint64_t i = 0; i < n; ++i) {
      EXPECT_EQ(f.u[i * n + i] > 0, true);
      EXPECT_NEAR(f.g[f.order[i]], 1.0 / (static_cast<double>(f.u[i * n + i]) * f.u[i * n + i]),
                  1e-6 * f.g[f.order[i]]);
    }
  }
}

TEST(CheckHessian, RefusesWhatIsNotASecondMoment) {
  std::vector<double> out;
  EXPECT_NE(CheckHessian(std::vector<float>(8, 1.0f), 3, &out).message().find("expected 3 x 3"), std::string::npos);
  std::vector<float> h = {1, 0, 0, 1};
  h[1] = NAN;
  EXPECT_NE(CheckHessian(h, 2, &out).message().find("NaN"), std::string::npos);
  EXPECT_NE(CheckHessian(std::vector<float>{1, 0.5f, 0.1f, 1}, 2, &out).message().find("not symmetric"),
            std::string::npos);
  EXPECT_NE(CheckHessian(std::vector<float>{-1, 0, 0, 1}, 2, &out).message().find("negative diagonal"),
            std::string::npos);
  // Symmetric to rounding: accepted and made exactly symmetric.
  ASSERT_TRUE(CheckHessian(std::vector<float>{1, 0.5f, 0.50000001f, 1}, 2, &out).ok());
  EXPECT_EQ(out[1], out[2]);
  // Indefinite with a positive diagonal: damping up to 1 x mean diag cannot make it definite.
  ASSERT_TRUE(CheckHessian(std::vector<float>{1, 3, 3, 1}, 2, &out).ok());
  HessianFactor f;
  EXPECT_NE(FactorHessian(out, 2, 0.01, true, &f).message().find("not positive semi-definite"), std::string::npos);
  // Singular (rank-deficient, a dead column): damping makes it definite.
  ASSERT_TRUE(CheckHessian(std::vector<float>{1, 1, 0, 1, 1, 0, 0, 0, 0}, 3, &out).ok());
  EXPECT_TRUE(FactorHessian(out, 3, 0.01, true, &f).ok());
}

ScalarLayout UniformLayout(uint64_t rows, uint64_t cols, int bits) {
  return ScalarLayout{RowLayout{rows, cols}, bits, 0, DType::kF32};
}

// Without a Hessian or a rate term the codes are the nearest levels, as the decoder reconstructs them.
TEST(RoundWithFeedback, WithoutHessianOrRateIsNearestRounding) {
  const uint64_t rows = 17, cols = 33;
  const std::vector<float> w = Gaussian(rows * cols, 5);
  std::vector<float> scales(rows);
  for (uint64_t r = 0; r < rows; ++r) scales[r] = 0.004f + 0.001f * static_cast<float>(r % 5);
  scales[3] = 0.0f;  // a zero scale: every code is the zero level
  FeedbackRequest req;
  req.w = w;
  req.layout = UniformLayout(rows, cols, 6);
  req.scales = scales;
  std::vector<uint8_t> codes;
  ASSERT_TRUE(RoundWithFeedback(req, &codes).ok());
  const int q = 31;
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const float x = w[r * cols + c], s = scales[r];
      const int got = codes[r * cols + c] - q;
      if (s == 0.0f) {
        EXPECT_EQ(got, 0);
        continue;
      }
      for (int k = -q; k <= q; ++k)
        EXPECT_LE(std::fabs(x - static_cast<float>(got) * s), std::fabs(x - static_cast<float>(k) * s))
            << r << "," << c;
    }
}

// Error feedback through H lowers tr(ΔW H ΔWᵀ) well below nearest rounding's on the same grid, with or
// without act-order, and every code stays in range.
TEST(RoundWithFeedback, FeedbackLowersTheHessianWeightedError) {
  const uint64_t rows = 40, cols = 48;
  const std::vector<double> h = Checked(CorrelatedHessian(cols, 6), cols);
  const std::vector<float> w = Gaussian(rows * cols, 7);
  const std::vector<float> scales(rows, 0.02f);
  FeedbackRequest req;
  req.w = w;
  req.layout = UniformLayout(rows, cols, 4);
  req.scales = scales;
  auto error = [&](const std::vector<uint8_t>& codes) {
    std::vector<float> r(w.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(codes[i] - 7) * 0.02f;
    return HessianWeightedError(w, r, rows, h);
  };
  std::vector<uint8_t> nearest;
  ASSERT_TRUE(RoundWithFeedback(req, &nearest).ok());
  for (bool act_order : {false, true}) {
    HessianFactor f;
    ASSERT_TRUE(FactorHessian(h, cols, 0.01, act_order, &f).ok());
    req.factor = &f;
    std::vector<uint8_t> fed;
    std::vector<double> damped;
    ASSERT_TRUE(RoundWithFeedback(req, &fed, &damped).ok());
    for (uint8_t c : fed) EXPECT_LE(c, 14);
    EXPECT_LT(error(fed), 0.75 * error(nearest)) << "act_order " << act_order;
    // Each row's Σ e² is its damped error: less the damping's share, its H-weighted error by definition.
    ASSERT_EQ(damped.size(), rows);
    std::vector<float> r(w.size());
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(fed[i] - 7) * 0.02f;
    for (uint64_t row = 0; row < rows; ++row) {
      double diag = 0;
      for (uint64_t c = 0; c < cols; ++c) {
        const double d = w[row * cols + c] - static_cast<double>(r[row * cols + c]);
        diag += f.added[c] * d * d;
      }
      const double expect =
          HessianWeightedError(std::span(w).subspan(row * cols, cols), std::span(r).subspan(row * cols, cols), 1, h);
      EXPECT_NEAR(damped[row] - diag, expect, 1e-4 * error(fed) / rows) << "row " << row;
    }
  }
}

// The rate term trades error for code length: a larger λ gives codes of lower empirical entropy and more
// error, and λ = 0 with lengths given changes nothing.
TEST(RoundWithFeedback, RateTermLowersTheEntropy) {
  const uint64_t rows = 64, cols = 32;
  const std::vector<double> h = Checked(CorrelatedHessian(cols, 8), cols);
  const std::vector<float> w = Gaussian(rows * cols, 9);
  const std::vector<float> scales(rows, 0.03f);
  HessianFactor f;
  ASSERT_TRUE(FactorHessian(h, cols, 0.01, true, &f).ok());
  FeedbackRequest req;
  req.w = w;
  req.layout = UniformLayout(rows, cols, 5);
  req.scales = scales;
  req.factor = &f;
  std::vector<uint8_t> base;
  ASSERT_TRUE(RoundWithFeedback(req, &base).ok());
  const std::vector<float> bits = CodeLengths(base, 15);
  auto entropy = [](const std::vector<uint8_t>& codes) { return EntropyBits(codes); };
  req.code_bits = bits;
  std::vector<uint8_t> same;
  ASSERT_TRUE(RoundWithFeedback(req, &same).ok());
  EXPECT_EQ(same, base);
  double last_entropy = entropy(base);
  for (double lambda : {0.1, 0.3}) {
    req.lambda = lambda;
    std::vector<uint8_t> rated;
    ASSERT_TRUE(RoundWithFeedback(req, &rated).ok());
    EXPECT_LT(entropy(rated), last_entropy) << lambda;
    last_entropy = entropy(rated);
  }
}

TEST(RoundWithFeedback, SameCodesForAnyThreadCount) {
  const uint64_t rows = 100, cols = 40;
  const std::vector<double> h = Checked(CorrelatedHessian(cols, 10), cols);
  const std::vector<float> w = Gaussian(rows * cols, 11);
  const std::vector<float> scales(rows, 0.01f);
  HessianFactor f;
  ASSERT_TRUE(FactorHessian(h, cols, 0.01, true, &f).ok());
  FeedbackRequest req;
  req.w = w;
  req.layout = UniformLayout(rows, cols, 6);
  req.scales = scales;
  req.factor = &f;
  req.lambda = 0.1;
  std::vector<float> bits(63, 6.0f);
  bits[31] = 1.0f;
  req.code_bits = bits;
  const int threads = omp_get_max_threads();
  std::vector<uint8_t> one, many;
  omp_set_num_threads(1);
  ASSERT_TRUE(RoundWithFeedback(req, &one).ok());
  omp_set_num_threads(std::max(2, threads));
  ASSERT_TRUE(RoundWithFeedback(req, &many).ok());
  omp_set_num_threads(threads);
  EXPECT_EQ(one, many);
}

}  // namespace
}  // namespace sdc
