#include "encoder/enc_distortion.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "encoder/enc_hessian.h"

namespace sdc {
namespace {

std::vector<float> RowsOfDifferentScale(uint64_t rows, uint64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> w(rows * cols);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) w[r * cols + c] = n(rng) * std::exp2(static_cast<float>(r) - 2.0f);
  return w;
}

std::span<const uint8_t> Bytes(const std::vector<float>& v) {
  return {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float)};
}

// Relative distortion with H = c·I is the relative measure of a tensor without a Hessian (each row's squared
// error over its mean square): the Hessian changes the shape of the error within a row, not the scale
// between rows or tensors.
TEST(ErrorMeasure, RelativeWithAScaledIdentityIsTheRelativeMeasure) {
  const uint64_t rows = 5, cols = 8;
  const std::vector<float> w = RowsOfDifferentScale(rows, cols, 1);
  std::vector<float> recon = w;
  std::mt19937 rng(2);
  std::normal_distribution<float> n(0.0f, 0.05f);
  for (float& v : recon) v += n(rng) * std::fabs(v);
  TensorView t{"x.weight", DType::kF32, {rows, cols}, Bytes(w)};
  EncodeOptions o;  // relative distortion by default
  std::vector<float> imp_plain, imp_h;
  ErrorMeasure plain, with_h;
  ASSERT_TRUE(MakeErrorMeasure(t, w, rows * cols, {}, o, &imp_plain, &plain).ok());
  std::vector<double> h(cols * cols, 0.0);
  for (uint64_t i = 0; i < cols; ++i) h[i * cols + i] = 37.5;
  ASSERT_TRUE(MakeErrorMeasure(t, w, rows * cols, h, o, &imp_h, &with_h).ok());
  double sse_a = 0, d_plain = 0, sse_b = 0, d_h = 0;
  plain.Measure(w, DType::kF32, Bytes(recon), &sse_a, &d_plain);
  with_h.Measure(w, DType::kF32, Bytes(recon), &sse_b, &d_h);
  EXPECT_EQ(sse_a, sse_b);
  EXPECT_NEAR(d_h, d_plain, 1e-5 * d_plain);
  // The SNR signal (enc_plan: Signal × factor) too.
  EXPECT_NEAR(with_h.Signal(w) * with_h.factor, plain.Signal(w) * plain.factor, 1e-5 * plain.Signal(w));
  // Absolute distortion keeps tr(ΔW H ΔWᵀ).
  o.relative_distortion = false;
  ErrorMeasure abs;
  ASSERT_TRUE(MakeErrorMeasure(t, w, rows * cols, h, o, &imp_h, &abs).ok());
  double sse_c = 0, d_abs = 0;
  abs.Measure(w, DType::kF32, Bytes(recon), &sse_c, &d_abs);
  EXPECT_NEAR(d_abs, 37.5 * sse_c, 1e-9 * d_abs);
}

// A row sample's measure weighs the sampled rows as the whole tensor's measure does.
TEST(ErrorMeasure, SampleRowsKeepsTheirWeights) {
  const uint64_t rows = 6, cols = 4;
  const std::vector<float> w = RowsOfDifferentScale(rows, cols, 3);
  TensorView t{"x.weight", DType::kF32, {rows, cols}, Bytes(w)};
  std::vector<double> h(cols * cols, 0.0);
  for (uint64_t i = 0; i < cols; ++i) h[i * cols + i] = 1.0 + i;
  std::vector<float> imp;
  ErrorMeasure m;
  ASSERT_TRUE(MakeErrorMeasure(t, w, rows * cols, h, EncodeOptions{}, &imp, &m).ok());
  const ErrorMeasure s = m.SampleRows(2, 3);
  ASSERT_EQ(s.rows, 3u);
  ASSERT_EQ(s.row_weight.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) EXPECT_EQ(s.row_weight[i], m.row_weight[2 * i]);
}

}  // namespace
}  // namespace sdc
