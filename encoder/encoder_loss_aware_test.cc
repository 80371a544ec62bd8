// Loss-aware encoding through Encode(): Hessians and sensitivities steer the codes and the allocation,
// budgets hold, the same input gives the same bytes for any thread count, and the H-weighted error the
// encoder reports is tr(ΔW H ΔWᵀ) of what the decoder returns.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <random>

#include "decoder/decoder.h"
#include "encoder/enc_hessian.h"
#include "encoder/enc_scalar_search.h"
#include "encoder/encoder.h"
#include "tests/encoder_test_util.h"

namespace sdc {
namespace {

using test::GaussianTensor;
using test::Owned;
using test::View;

// E[x xᵀ] of correlated inputs whose channels differ in scale.
std::vector<float> InputHessian(uint64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  const uint64_t samples = 4 * cols;
  std::vector<double> x(samples * cols);
  std::vector<double> scale(cols);
  for (double& s : scale) s = std::exp(n(rng));
  for (uint64_t i = 0; i < samples; ++i) {
    const double common = n(rng);
    for (uint64_t c = 0; c < cols; ++c) x[i * cols + c] = scale[c] * (n(rng) + 0.7 * common);
  }
  std::vector<float> h(cols * cols);
  for (uint64_t a = 0; a < cols; ++a)
    for (uint64_t b = 0; b < cols; ++b) {
      double s = 0;
      for (uint64_t i = 0; i < samples; ++i) s += x[i * cols + a] * x[i * cols + b];
      h[a * cols + b] = static_cast<float>(s / samples);
    }
  return h;
}

struct Model {
  std::vector<Owned> tensors;
  EncodeOptions options;
};

// Two 2-D tensors with Hessians (one tall enough for the row-sample preselection), one without, a 1-D one.
Model LossAwareModel() {
  Model m;
  m.tensors = {GaussianTensor("layers.0.attention.wq.weight", DType::kF32, {48, 40}, 1, 0.05),
               GaussianTensor("layers.0.feed_forward.w1.weight", DType::kF32, {300, 40}, 2, 0.05),
               GaussianTensor("layers.0.feed_forward.w2.weight", DType::kF32, {40, 64}, 3, 0.05),
               GaussianTensor("layers.0.ffn_norm.weight", DType::kF32, {40}, 4, 1.0)};
  m.options.min_quant_numel = 0;
  m.options.hessians["layers.0.attention.wq.weight"] = InputHessian(40, 5);
  m.options.hessians["layers.0.feed_forward.w1.weight"] = InputHessian(40, 6);
  return m;
}

std::vector<float> Floats(const DecodedTensor& t) {
  std::vector<float> v(t.data.size() / 4);
  std::memcpy(v.data(), t.data.data(), t.data.size());
  return v;
}

std::map<std::string, std::vector<float>> DecodeAll(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  EXPECT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
  std::vector<DecodedTensor> ts;
  std::vector<DecodedAsset> as;
  EXPECT_TRUE(d->DecodeAll(&ts, &as).ok());
  std::map<std::string, std::vector<float>> out;
  for (const DecodedTensor& t : ts) out[t.name] = Floats(t);
  return out;
}

std::vector<double> AsDouble(const std::vector<float>& h) { return std::vector<double>(h.begin(), h.end()); }

double HError(const Owned& t, const std::vector<float>& recon, const std::vector<float>& h) {
  std::vector<float> w(t.data.size() / 4);
  std::memcpy(w.data(), t.data.data(), t.data.size());
  return HessianWeightedError(w, recon, t.shape[0], AsDouble(h));
}

TEST(LossAware, BudgetsHoldAndTheReportedErrorIsTheDecodersHWeightedError) {
  Model m = LossAwareModel();
  m.options.relative_distortion = false;  // the reported distortion is then tr(ΔW H ΔWᵀ) itself
  for (uint64_t budget : {5500u, 8000u, 12000u}) {
    m.options.budget = budget;
    EncodeResult r;
    const Status s = Encode(View(m.tensors), m.options, &r);
    ASSERT_TRUE(s.ok()) << budget << ": " << s.message();
    EXPECT_LE(r.file.size(), budget);
    const auto decoded = DecodeAll(r.file);
    for (size_t i = 0; i < 2; ++i) {
      const Owned& t = m.tensors[i];
      const double expect = HError(t, decoded.at(t.name), m.options.hessians.at(t.name));
      EXPECT_NEAR(r.tensors[i].distortion, expect, 1e-3 * expect) << t.name << " at " << budget;
    }
  }
}

TEST(LossAware, SameBytesForAnyThreadCount) {
  Model m = LossAwareModel();
  m.options.budget = 6000;
  const int threads = omp_get_max_threads();
  EncodeResult one, two;
  omp_set_num_threads(1);
  ASSERT_TRUE(Encode(View(m.tensors), m.options, &one).ok());
  omp_set_num_threads(std::max(2, threads));
  ASSERT_TRUE(Encode(View(m.tensors), m.options, &two).ok());
  omp_set_num_threads(threads);
  EXPECT_EQ(one.file, two.file);
}

// At the same budget, coding with the Hessians gives a lower H-weighted error on the tensors that have them
// than coding without (which minimises plain squared error).
TEST(LossAware, HessiansLowerTheOutputErrorAtTheSameBytes) {
  Model with = LossAwareModel();
  with.options.relative_distortion = false;
  with.options.budget = 6000;
  Model without = with;
  without.options.hessians.clear();
  EncodeResult a, b;
  ASSERT_TRUE(Encode(View(with.tensors), with.options, &a).ok());
  ASSERT_TRUE(Encode(View(without.tensors), without.options, &b).ok());
  const auto da = DecodeAll(a.file), db = DecodeAll(b.file);
  double ea = 0, eb = 0;
  for (size_t i = 0; i < 2; ++i) {
    const Owned& t = with.tensors[i];
    ea += HError(t, da.at(t.name), with.options.hessians.at(t.name));
    eb += HError(t, db.at(t.name), with.options.hessians.at(t.name));
  }
  EXPECT_LT(ea, 0.8 * eb);
}

// An embedding with a Hessian is a tied head: its error weighs tied_weight times, so a larger weight gives it
// more of the same budget (and a lower error); a measured sensitivity for it replaces the weight.
TEST(LossAware, ATiedEmbeddingWeighsTiedWeightTimes) {
  Model m = LossAwareModel();
  m.tensors.push_back(GaussianTensor("tok_embeddings.weight", DType::kF32, {64, 40}, 7, 0.05));
  m.options.hessians["tok_embeddings.weight"] = InputHessian(40, 8);
  m.options.budget = 9000;
  auto embedding_bytes = [&](double weight, bool measured) {
    Model x = m;
    x.options.tied_weight = weight;
    if (measured)
      for (const Owned& t : x.tensors) x.options.sensitivity[t.name] = 1.0;
    EncodeResult r;
    EXPECT_TRUE(Encode(View(x.tensors), x.options, &r).ok());
    for (const auto& t : r.tensors)
      if (t.name == "tok_embeddings.weight") return std::make_pair(t.stored_bytes, t.sse);
    ADD_FAILURE() << "no embedding in the result";
    return std::make_pair(uint64_t{0}, 0.0);
  };
  const auto one = embedding_bytes(1.0, false), sixteen = embedding_bytes(16.0, false);
  EXPECT_GT(sixteen.first, one.first);
  EXPECT_LT(sixteen.second, one.second);
  EXPECT_EQ(embedding_bytes(1.0, true), embedding_bytes(16.0, true));
}

TEST(LossAware, CalibrationNamesMustMatchTheInput) {
  Model m = LossAwareModel();
  m.options.bits = 4;
  m.options.hessians["nope"] = std::vector<float>(4, 1.0f);
  EncodeResult r;
  EXPECT_EQ(Encode(View(m.tensors), m.options, &r).message(), "Hessian for 'nope': no such tensor in the input");
  m = LossAwareModel();
  m.options.sensitivity["layers.9.x"] = 2.0;
  EXPECT_NE(Encode(View(m.tensors), m.options, &r).message().find("sensitivity for 'layers.9.x'"), std::string::npos);
  m = LossAwareModel();
  m.options.hessians["layers.0.attention.wq.weight"].resize(39 * 39);
  EXPECT_NE(Encode(View(m.tensors), m.options, &r).message().find("tensor 'layers.0.attention.wq.weight': Hessian"),
            std::string::npos);
}

TEST(LowerHull, KeepsOnlyWhatSomeSlopeWouldChoose) {
  // (bytes, error): 4 is dominated (more bytes, more error), 2 lies above the segment 1-3, 5 is a duplicate.
  const std::vector<double> bytes = {10, 20, 25, 30, 35, 20, 50};
  const std::vector<double> error = {100, 60, 55, 40, 70, 60, 20};
  const std::vector<size_t> hull = LowerHull(bytes, error);
  EXPECT_EQ(hull, (std::vector<size_t>{0, 1, 3, 6}));
}

}  // namespace
}  // namespace sdc
