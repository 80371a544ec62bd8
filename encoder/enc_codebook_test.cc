// encoder/: Method::kCodebook through Encode() and the Decoder. Every codebook tensor the decoder returns is
// checked three ways: its XXH64 equals the manifest's, and it equals an independent re-dequantization of the
// file's own sections (spec §8.4 written out in tests/test_util.h). Codebook encodes are deterministic for
// any thread count, stay within byte budgets, meet a target SNR, and honour importance and relative
// distortion.
#include <gtest/gtest.h>
#include <omp.h>
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "encoder/encoder.h"
#include "tests/encoder_test_util.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using test::GaussianTensor;
using test::Owned;
using test::SectionRaw;
using test::View;

// Rows made of sub-vectors of 4 drawn from 16 prototypes, plus 5% noise, times sigma: data a codebook codes
// far better than scalar quantization at the same rate, so budgets choose codebook tensors.
Owned Clustered(const std::string& name, uint64_t rows, uint64_t cols, uint64_t seed, double sigma) {
  const std::vector<float> protos = test::Gaussian(16 * 4, seed, 1.0);
  const std::vector<float> noise = test::Gaussian(rows * cols, seed + 1, 0.05);
  std::mt19937_64 rng(seed + 2);
  std::vector<float> v(rows * cols);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c0 = 0; c0 < cols; c0 += 4) {
      const uint64_t p = rng() % 16;
      for (uint64_t e = 0; e < 4 && c0 + e < cols; ++e)
        v[r * cols + c0 + e] = static_cast<float>(sigma * (protos[p * 4 + e] + noise[r * cols + c0 + e]));
    }
  return {name, DType::kF32, {rows, cols}, test::FloatsAs(DType::kF32, v)};
}

// Three clustered tensors of very different magnitudes.
std::vector<Owned> ClusteredModel() {
  return {Clustered("big", 48, 64, 31, 1.0), Clustered("mid", 48, 64, 41, 0.01),
          Clustered("small", 48, 64, 51, 0.0001)};
}

EncodeOptions CodebookOptions(uint32_t dim, uint32_t k, int codebooks, bool per_tensor) {
  EncodeOptions o;
  o.method = Method::kCodebook;
  o.min_quant_numel = 0;
  o.codebook.dim = dim;
  o.codebook.k = k;
  o.codebook.codebooks = codebooks;
  o.codebook.kmeans_iterations = 6;
  o.codebook.refine_rounds = 1;
  o.codebook.beam = 2;
  o.per_tensor_banks = per_tensor;
  o.zstd_level = 3;
  return o;
}

// What codebook tensor t must decode to, re-derived from its sections with the reference rule.
std::vector<uint8_t> Rederive(const Container& c, const fb::Tensor& t) {
  const fb::CodebookRep* r = t.rep_as_CodebookRep();
  EXPECT_NE(r, nullptr);
  if (!r) return {};
  const std::vector<uint64_t> shape = ShapeOf(t);
  const uint64_t cols = shape.empty() ? 1 : shape.back();
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  std::vector<test::RefBank> banks;
  for (uint32_t b : *r->banks()) {
    const fb::Bank& bank = *c.manifest().banks()->Get(b);
    banks.push_back(
        test::RefBankOf(SectionRaw(c, bank.data()), bank.k(), bank.dim(), static_cast<DType>(bank.entry_dtype())));
  }
  std::vector<const test::RefBank*> views;
  for (const test::RefBank& b : banks) views.push_back(&b);
  std::vector<std::vector<uint8_t>> indices;
  for (uint32_t i : *r->indices()) indices.push_back(SectionRaw(c, i));
  const std::vector<float> alpha(r->coefficients()->begin(), r->coefficients()->end());
  std::vector<uint8_t> positions, values;
  test::RefResidual residual;
  if (r->residual()) {
    positions = SectionRaw(c, r->residual()->positions());
    values = SectionRaw(c, r->residual()->values());
    residual = {r->residual()->count(), positions, values, r->residual()->step()};
  }
  std::vector<uint8_t> out;
  EXPECT_TRUE(test::RefDequantizeCodebook(rows, cols, r->dim(), views, alpha, r->group_size(),
                                          static_cast<DType>(r->scale_dtype()), SectionRaw(c, r->scales()), indices,
                                          r->residual() ? &residual : nullptr, static_cast<DType>(t.dtype()), &out))
      << t.name()->str() << ": the reference rule refuses the encoder's sections";
  return out;
}

struct Decoded {
  std::vector<DecodedTensor> tensors;
  std::unique_ptr<Decoder> decoder;
};

// Decodes the file; every tensor's bytes hash to the manifest's XXH64, and codebook tensors equal the
// independent re-dequantization of their sections.
Decoded DecodeChecked(const std::vector<uint8_t>& file) {
  Decoded out;
  Status s = Decoder::Open(file, DecodeLimits(), &out.decoder);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return out;
  std::vector<DecodedAsset> assets;
  s = out.decoder->DecodeAll(&out.tensors, &assets);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = out.decoder->Verify();
  EXPECT_TRUE(s.ok()) << s.ToString();
  const Container& c = out.decoder->container();
  for (uint32_t i = 0; i < out.tensors.size(); ++i) {
    const fb::Tensor& t = *c.manifest().tensors()->Get(i);
    EXPECT_EQ(test::Hash(out.tensors[i].data), t.xxh64()) << t.name()->str();
    if (t.rep_type() == fb::Representation::CodebookRep) {
      EXPECT_EQ(out.tensors[i].data, Rederive(c, t)) << t.name()->str();
    }
  }
  return out;
}

// Squared error and signal of a decoded tensor against its input, per element (binary32 values).
struct Error {
  double signal = 0, noise = 0;
  double snr_db() const { return noise == 0 ? INFINITY : 10 * std::log10(signal / noise); }
};

Error ErrorOf(const Owned& in, const DecodedTensor& out) {
  Error e;
  for (size_t i = 0; i < in.data.size() / DTypeSize(in.dtype); ++i) {
    const double w = test::RefLoad(in.dtype, in.data.data(), i);
    const double d = w - test::RefLoad(in.dtype, out.data.data(), i);
    e.signal += w * w;
    e.noise += d * d;
  }
  return e;
}

// Matrices of the three float dtypes (rows of 64, 37, 42 and 3 columns: the last sub-vector of a row is short
// for dim 4 and 8, or the only one; one tensor of rank 3), a norm vector and an integer tensor: the last two
// stay raw.
std::vector<Owned> SmallModel() {
  std::vector<Owned> ts = {GaussianTensor("layers.0.attention.wq.weight", DType::kF32, {48, 64}, 1, 0.02),
                           GaussianTensor("layers.0.feed_forward.w1.weight", DType::kBF16, {40, 37}, 2, 0.05),
                           GaussianTensor("layers.0.feed_forward.w2.weight", DType::kF16, {2, 12, 42}, 3, 0.1),
                           GaussianTensor("layers.0.attention.wo.weight", DType::kF32, {40, 3}, 6, 0.3),
                           GaussianTensor("layers.0.attention_norm.weight", DType::kF32, {64}, 4),
                           {"positions", DType::kI32, {2, 3}, test::RandomBytes(24, 5)}};
  return ts;
}

struct RoundTripCase {
  const char* name;
  uint32_t dim, k;
  int codebooks;
  bool per_tensor;
  uint32_t group_size;
  double residual_fraction;
};

// Round trips: shared and per-tensor banks, M = 1 and 2, dim 4 and 8, k from 16 to 300 (u16 indices),
// per-row and per-group scales, with and without sparse residuals. Matrices become codebook tensors whose
// banks are what the options say, small and non-float tensors stay raw and exact, the decoded bytes match
// the manifest hash and an independent re-dequantization, and the error is that of a real quantizer.
TEST(CodebookEncode, RoundTrips) {
  const RoundTripCase cases[] = {
      {"shared M1 dim4 k16", 4, 16, 1, false, 0, 0.0},
      {"shared M2 dim8 k64 residual", 8, 64, 2, false, 16, 0.01},
      {"per-tensor M1 dim8 k300", 8, 300, 1, true, 0, 0.0},
      {"per-tensor M2 dim4 k32 group8 residual", 4, 32, 2, true, 8, 0.02},
      {"shared M2 dim4 k257 residual", 4, 257, 2, false, 0, 0.005},
  };
  const std::vector<Owned> ts = SmallModel();
  const uint32_t n_codebook = 4;  // the matrices come first
  for (const RoundTripCase& rc : cases) {
    SCOPED_TRACE(rc.name);
    EncodeOptions o = CodebookOptions(rc.dim, rc.k, rc.codebooks, rc.per_tensor);
    o.codebook.group_size = rc.group_size;
    o.residual_fractions = {rc.residual_fraction};
    EncodeResult r;
    Status s = Encode(View(ts), o, &r);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const Decoded d = DecodeChecked(r.file);
    ASSERT_EQ(d.tensors.size(), ts.size());
    const fb::Manifest& m = d.decoder->container().manifest();
    const uint32_t n_banks = m.banks() ? m.banks()->size() : 0;
    EXPECT_EQ(n_banks, static_cast<uint32_t>(rc.codebooks * (rc.per_tensor ? n_codebook : 1)));
    for (uint32_t b = 0; b < n_banks; ++b) {
      EXPECT_EQ(m.banks()->Get(b)->k(), rc.k);
      EXPECT_EQ(m.banks()->Get(b)->dim(), rc.dim);
    }
    std::vector<uint32_t> used;
    for (size_t i = 0; i < ts.size(); ++i) {
      const fb::Tensor& t = *m.tensors()->Get(i);
      EXPECT_EQ(d.tensors[i].shape, ts[i].shape);
      if (i >= n_codebook) {
        EXPECT_EQ(t.rep_type(), fb::Representation::RawRep) << ts[i].name;
        EXPECT_EQ(d.tensors[i].data, ts[i].data) << ts[i].name;
        continue;
      }
      ASSERT_EQ(t.rep_type(), fb::Representation::CodebookRep) << ts[i].name;
      EXPECT_EQ(r.tensors[i].representation, "codebook");
      const fb::CodebookRep* cb = t.rep_as_CodebookRep();
      EXPECT_EQ(cb->dim(), rc.dim);
      EXPECT_EQ(cb->group_size(), rc.group_size);
      ASSERT_EQ(cb->banks()->size(), static_cast<uint32_t>(rc.codebooks));
      for (uint32_t b : *cb->banks()) used.push_back(b);
      // Index streams: u16 exactly when k > 256.
      const uint64_t vectors =
          test::Numel(ts[i].shape) / ts[i].shape.back() * ((ts[i].shape.back() + rc.dim - 1) / rc.dim);
      for (uint32_t sec : *cb->indices())
        EXPECT_EQ(d.decoder->container().section(sec).raw_size(), vectors * (rc.k > 256 ? 2 : 1));
      const uint64_t numel = test::Numel(ts[i].shape);
      const uint64_t expect_count = static_cast<uint64_t>(std::llround(rc.residual_fraction * numel));
      if (expect_count == 0) {
        EXPECT_EQ(cb->residual(), nullptr);
      } else {
        ASSERT_NE(cb->residual(), nullptr);
        EXPECT_EQ(cb->residual()->count(), expect_count);
      }
      const Error e = ErrorOf(ts[i], d.tensors[i]);
      EXPECT_GT(e.snr_db(), 3.0) << ts[i].name;
      EXPECT_NEAR(e.noise, r.tensors[i].sse, 1e-9 + 1e-6 * e.noise) << ts[i].name;
    }
    // Shared banks are used by every codebook tensor in the same order; per-tensor banks by one tensor each.
    std::sort(used.begin(), used.end());
    if (rc.per_tensor) {
      EXPECT_EQ(std::unique(used.begin(), used.end()), used.end());
    } else {
      EXPECT_EQ(used.size(), n_codebook * rc.codebooks);
      EXPECT_EQ(std::unique(used.begin(), used.end()) - used.begin(), rc.codebooks);
    }
  }
}

// More codebooks, a larger k and residuals lower the error on the same tensor (the encoder's choices are
// not all the same).
TEST(CodebookEncode, MoreCapacityLowersTheError) {
  const std::vector<Owned> ts = {GaussianTensor("w", DType::kF32, {64, 64}, 11, 0.02)};
  auto snr = [&](uint32_t k, int m, double fraction) {
    EncodeOptions o = CodebookOptions(4, k, m, false);
    o.residual_fractions = {fraction};
    EncodeResult r;
    Status s = Encode(View(ts), o, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    const Decoded d = DecodeChecked(r.file);
    return d.tensors.empty() ? 0.0 : ErrorOf(ts[0], d.tensors[0]).snr_db();
  };
  const double base = snr(16, 1, 0.0);
  EXPECT_GT(snr(256, 1, 0.0), base + 1.0);
  EXPECT_GT(snr(16, 2, 0.0), base + 1.0);
  EXPECT_GT(snr(16, 1, 0.05), base + 0.5);
}

// The entropy penalty (lambda) trades error for smaller index streams: with lambda = 0.4 the rANS-coded
// index sections are smaller than with 0, and the SNR drops by less than 3 dB.
TEST(CodebookEncode, EntropyPenaltyShrinksIndexStreams) {
  const std::vector<Owned> ts = {GaussianTensor("w", DType::kF32, {64, 64}, 12, 0.02)};
  auto encode = [&](double lambda, uint64_t* index_bytes) {
    EncodeOptions o = CodebookOptions(4, 64, 1, false);
    o.lambda = lambda;
    EncodeResult r;
    Status s = Encode(View(ts), o, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    const Decoded d = DecodeChecked(r.file);
    *index_bytes = 0;
    const Container& c = d.decoder->container();
    for (uint32_t i = 0; i < c.section_count(); ++i)
      if (c.section(i).kind() == fb::SectionKind::Indices) *index_bytes += c.section(i).stored_size();
    return d.tensors.empty() ? 0.0 : ErrorOf(ts[0], d.tensors[0]).snr_db();
  };
  uint64_t plain_bytes = 0, penalised_bytes = 0;
  const double plain = encode(0.0, &plain_bytes), penalised = encode(0.4, &penalised_bytes);
  EXPECT_LT(penalised_bytes, plain_bytes);
  EXPECT_GT(penalised, plain - 3.0);
}

// Codebook encodes give the same bytes with 1 and 2 OpenMP threads, run after run: shared banks with beam
// search (M = 2), per-tensor banks, and a budget (candidates for every penalty and residual fraction).
TEST(CodebookEncode, SameBytesForAnyThreadCount) {
  const std::vector<Owned> ts = SmallModel();
  EncodeOptions shared = CodebookOptions(4, 64, 2, false);
  shared.residual_fractions = {0.01};
  EncodeOptions per_tensor = CodebookOptions(8, 32, 1, true);
  per_tensor.lambda = 0.1;
  EncodeOptions budget = CodebookOptions(4, 32, 2, false);
  budget.budget = 5000;
  budget.residual_fractions = {0.0, 0.01};
  const int saved = omp_get_max_threads();
  for (const EncodeOptions& o : {shared, per_tensor, budget}) {
    std::vector<std::vector<uint8_t>> files;
    for (int threads : {1, 2, 2, 1}) {
      omp_set_num_threads(threads);
      EncodeResult r;
      Status s = Encode(View(ts), o, &r);
      ASSERT_TRUE(s.ok()) << s.ToString();
      files.push_back(r.file);
    }
    for (size_t i = 1; i < files.size(); ++i) EXPECT_EQ(files[i], files[0]) << "run " << i;
  }
  omp_set_num_threads(saved);
}

// The sizes a kBudget message names: "the smallest encoding takes N bytes (a budget of at least B)".
std::pair<uint64_t, uint64_t> NamedSizes(const Status& s) {
  const std::string smallest = "the smallest encoding takes ", least = "(a budget of at least ";
  const size_t a = s.message().find(smallest), b = s.message().find(least);
  EXPECT_EQ(s.code(), StatusCode::kBudget) << s.ToString();
  EXPECT_NE(a, std::string::npos) << s.ToString();
  EXPECT_NE(b, std::string::npos) << s.ToString();
  if (a == std::string::npos || b == std::string::npos) return {0, 0};
  return {std::stoull(s.message().substr(a + smallest.size())), std::stoull(s.message().substr(b + least.size()))};
}

EncodeOptions BudgetOptions(bool per_tensor) {
  EncodeOptions o = CodebookOptions(4, 32, 1, per_tensor);
  o.residual_fractions = {0.0, 0.01};
  o.lambdas = {0.0, 0.2};
  return o;
}

// Byte budgets with Method::kCodebook are never exceeded (budget - reserve): for budgets from below the
// smallest possible file to generous ones, with shared and per-tensor banks and a reserve, every encode
// either fails with kBudget or gives a file within the budget that decodes and checks and records its
// budget. Generous budgets succeed, and some budgets choose codebook tensors.
TEST(CodebookEncode, BudgetsAreNeverExceeded) {
  const std::vector<Owned> ts = ClusteredModel();
  for (bool per_tensor : {false, true}) {
    SCOPED_TRACE(per_tensor ? "per-tensor banks" : "shared banks");
    bool any_codebook = false;
    for (uint64_t reserve : {uint64_t{0}, uint64_t{300}}) {
      EncodeOptions o = BudgetOptions(per_tensor);
      o.reserve = reserve;
      for (uint64_t target : {2000, 2300, 2500, 2700, 3000, 3500, 4500, 30000}) {
        o.budget = target + reserve;
        EncodeResult r;
        Status s = Encode(View(ts), o, &r);
        if (!s.ok()) {
          EXPECT_EQ(s.code(), StatusCode::kBudget) << "budget " << o.budget << ": " << s.ToString();
          EXPECT_LT(target, 3500u) << "budget " << o.budget << " reserve " << reserve << ": " << s.ToString();
          continue;
        }
        EXPECT_LE(r.file.size(), target) << "budget " << o.budget << " reserve " << reserve;
        const Decoded d = DecodeChecked(r.file);
        EXPECT_EQ(d.decoder->container().manifest().budget_bytes(), o.budget);
        for (const TensorSummary& t : r.tensors) any_codebook = any_codebook || t.representation == "codebook";
      }
    }
    EXPECT_TRUE(any_codebook) << "no budget chose a codebook tensor";
  }
}

// Budgets between 250 bytes below and 50 above the size a kBudget message names as the smallest, every
// 10 bytes: which succeed (and stay within the budget).
std::vector<std::pair<uint64_t, bool>> BudgetSweep(const std::vector<Owned>& ts, uint64_t* named) {
  EncodeOptions o = CodebookOptions(4, 32, 1, false);
  o.residual_fractions = {0.0, 0.01};
  o.budget = 1;
  EncodeResult r;
  *named = NamedSizes(Encode(View(ts), o, &r)).first;
  std::vector<std::pair<uint64_t, bool>> out;
  for (uint64_t budget = *named - 250; budget <= *named + 50; budget += 10) {
    o.budget = budget;
    const Status s = Encode(View(ts), o, &r);
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kBudget) << s.ToString();
    if (s.ok()) {
      EXPECT_LE(r.file.size(), budget);
    }
    out.push_back({budget, s.ok()});
  }
  return out;
}

std::vector<Owned> GaussianModel() {
  return {GaussianTensor("big", DType::kF32, {48, 64}, 31, 1.0), GaussianTensor("mid", DType::kF32, {48, 64}, 32, 0.01),
          GaussianTensor("small", DType::kF32, {48, 64}, 33, 0.0001)};
}

// A kBudget error names "the smallest encoding": no budget below it may succeed.
TEST(CodebookEncode, NamedSmallestSizeIsTheSmallest) {
  for (const std::vector<Owned>& ts : {GaussianModel(), ClusteredModel()}) {
    uint64_t named = 0;
    for (const auto& [budget, ok] : BudgetSweep(ts, &named))
      EXPECT_FALSE(ok && budget < named) << "budget " << budget << " succeeds below the named smallest " << named;
  }
}

// Feasibility is monotone in the budget: once a budget succeeds, every larger one does too; and the budget
// a kBudget message names ("a budget of at least B") succeeds, with per-tensor banks and a reserve too.
TEST(CodebookEncode, LargerBudgetsStayFeasible) {
  for (const std::vector<Owned>& ts : {GaussianModel(), ClusteredModel()}) {
    uint64_t named = 0;
    bool seen_ok = false;
    uint64_t first_ok = 0;
    for (const auto& [budget, ok] : BudgetSweep(ts, &named)) {
      EXPECT_FALSE(seen_ok && !ok) << "budget " << budget << " fails although " << first_ok << " succeeds";
      if (ok && !seen_ok) first_ok = budget;
      seen_ok = seen_ok || ok;
    }
  }
  for (bool per_tensor : {false, true})
    for (uint64_t reserve : {uint64_t{0}, uint64_t{300}}) {
      EncodeOptions o = BudgetOptions(per_tensor);
      o.budget = reserve + 1;
      o.reserve = reserve;
      EncodeResult r;
      o.budget = NamedSizes(Encode(View(ClusteredModel()), o, &r)).second;
      const Status s = Encode(View(ClusteredModel()), o, &r);
      EXPECT_TRUE(s.ok()) << (per_tensor ? "per-tensor" : "shared") << " banks, reserve " << reserve
                          << ": the named budget " << o.budget << " fails: " << s.ToString();
    }
}

// Without a budget, target_snr_db gives a file whose plain weight SNR over all float tensors (total signal
// over total squared error, measured on the decoded bytes) reaches the target.
TEST(CodebookEncode, TargetSnrIsMet) {
  const std::vector<Owned> ts = SmallModel();
  for (bool per_tensor : {false, true})
    for (double target : {12.0, 20.0, 30.0}) {
      SCOPED_TRACE(std::string(per_tensor ? "per-tensor" : "shared") + " target " + std::to_string(target));
      EncodeOptions o = CodebookOptions(4, 32, 2, per_tensor);
      o.residual_fractions = {0.0, 0.01};
      o.lambdas = {0.0, 0.2};
      o.target_snr_db = target;
      EncodeResult r;
      Status s = Encode(View(ts), o, &r);
      ASSERT_TRUE(s.ok()) << s.ToString();
      const Decoded d = DecodeChecked(r.file);
      ASSERT_EQ(d.tensors.size(), ts.size());
      Error total;
      for (size_t i = 0; i < ts.size(); ++i) {
        if (!IsLossyCodable(ts[i].dtype)) continue;
        const Error e = ErrorOf(ts[i], d.tensors[i]);
        total.signal += e.signal;
        total.noise += e.noise;
      }
      EXPECT_GE(total.snr_db(), target);
    }
}

// Importance per column (input channel): the error the encoder minimises is sum(importance * err^2), so
// giving 8 columns of a tensor a weight of 1000 (the others 1) makes those columns' squared error smaller
// than the same encode without importance.
void CheckColumnImportance(const EncodeOptions& base, const char* what) {
  SCOPED_TRACE(what);
  const uint64_t rows = 64, cols = 64;
  const Owned t = GaussianTensor("layers.0.attention.wq.weight", DType::kF32, {rows, cols}, 21, 0.02);
  const std::vector<Owned> ts = {t};
  std::vector<float> importance(cols, 1.0f);
  const std::vector<uint64_t> heavy = {0, 1, 2, 3, 17, 30, 44, 63};
  for (uint64_t c : heavy) importance[c] = 1000.0f;
  auto heavy_error = [&](bool with_importance) {
    EncodeOptions o = base;
    if (with_importance) o.importance[t.name] = importance;
    EncodeResult r;
    Status s = Encode(View(ts), o, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    const Decoded d = DecodeChecked(r.file);
    if (d.tensors.empty()) return static_cast<double>(INFINITY);
    double e = 0;
    for (uint64_t row = 0; row < rows; ++row)
      for (uint64_t c : heavy) {
        const double diff = static_cast<double>(test::RefLoad(DType::kF32, t.data.data(), row * cols + c)) -
                            test::RefLoad(DType::kF32, d.tensors[0].data.data(), row * cols + c);
        e += diff * diff;
      }
    return e;
  };
  const double without = heavy_error(false), with = heavy_error(true);
  EXPECT_LT(with, without) << "weighted columns' squared error: " << with << " with importance, " << without
                           << " without";
}

TEST(CodebookEncode, ColumnImportanceWithResiduals) {
  EncodeOptions o = CodebookOptions(4, 16, 1, false);
  o.residual_fractions = {0.05};
  CheckColumnImportance(o, "shared banks, 5% residuals");
}

TEST(CodebookEncode, ColumnImportancePerTensorBanks) {
  CheckColumnImportance(CodebookOptions(4, 16, 1, true), "per-tensor banks, no residual");
}

// Shared banks without residuals: the same importance must still change the code assignment.
TEST(CodebookEncode, ColumnImportanceSharedBanks) {
  CheckColumnImportance(CodebookOptions(4, 16, 1, false), "shared banks, no residual");
}

// relative_distortion = true weighs each row's error by 1 / its mean square, so tensors of very different
// magnitudes (sigma 1, 0.01, 0.0001) all keep a usable SNR; with plain squared error (false) the allocator
// starves the small ones. At the same budget the smallest per-tensor SNR is higher with true.
TEST(CodebookEncode, RelativeDistortionRaisesTheWorstTensor) {
  const std::vector<Owned> ts = ClusteredModel();
  for (uint64_t budget : {4000, 6000}) {
    auto min_snr = [&](bool relative) {
      EncodeOptions o = BudgetOptions(false);
      o.relative_distortion = relative;
      o.budget = budget;
      EncodeResult r;
      Status s = Encode(View(ts), o, &r);
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_LE(r.file.size(), o.budget);
      const Decoded d = DecodeChecked(r.file);
      double worst = INFINITY;
      for (size_t i = 0; i < ts.size() && i < d.tensors.size(); ++i)
        worst = std::min(worst, ErrorOf(ts[i], d.tensors[i]).snr_db());
      return d.tensors.size() == ts.size() ? worst : -INFINITY;
    };
    const double plain = min_snr(false), relative = min_snr(true);
    EXPECT_GT(relative, plain + 1.0) << "budget " << budget << ": minimum per-tensor SNR " << relative
                                     << " dB relative, " << plain << " dB plain";
  }
}

// An empty 2-D tensor beside a real one, under the codebook method (shared banks, per-tensor banks, and a
// budget): it has nothing to train on or code, and comes back empty and exact (this crashed and failed once).
TEST(CodebookEncode, EmptyTensorsAreStoredRaw) {
  const std::vector<Owned> ts = {GaussianTensor("w", DType::kF32, {16, 32}, 71), {"empty", DType::kF32, {0, 5}, {}}};
  for (int mode = 0; mode < 3; ++mode) {
    EncodeOptions o = CodebookOptions(4, 16, 1, mode == 1);
    if (mode == 2) o.budget = 4000;
    EncodeResult r;
    const Status s = Encode(View(ts), o, &r);
    ASSERT_TRUE(s.ok()) << "mode " << mode << ": " << s.ToString();
    const Decoded d = DecodeChecked(r.file);
    ASSERT_EQ(d.tensors.size(), 2u);
    EXPECT_EQ(d.tensors[1].shape, (std::vector<uint64_t>{0, 5}));
    EXPECT_TRUE(d.tensors[1].data.empty());
    EXPECT_EQ(r.tensors[1].representation, "raw") << "mode " << mode;
  }
}

// Codebook options the format cannot hold are refused, never written: dim 0 or 17, k 0 or 65537, 0 or 9
// codebooks (shared and per-tensor banks), and a group size that is not a multiple of dim.
TEST(CodebookEncode, InvalidOptionsAreRejected) {
  const std::vector<Owned> ts = {GaussianTensor("w", DType::kF32, {16, 32}, 61)};
  struct Bad {
    const char* what;
    uint32_t dim, k;
    int codebooks;
    uint32_t group;
  };
  const Bad bad[] = {{"dim 0", 0, 16, 1, 0},         {"dim 17", 17, 16, 1, 0},     {"k 0", 4, 0, 1, 0},
                     {"k 65537", 4, 65537, 1, 0},    {"0 codebooks", 4, 16, 0, 0}, {"9 codebooks", 4, 16, 9, 0},
                     {"group 6, dim 4", 4, 16, 1, 6}};
  for (const Bad& b : bad)
    for (bool per_tensor : {false, true}) {
      EncodeOptions o = CodebookOptions(b.dim, b.k, b.codebooks, per_tensor);
      o.codebook.group_size = b.group;
      EncodeResult r;
      Status s = Encode(View(ts), o, &r);
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument)
          << b.what << (per_tensor ? " per-tensor" : " shared") << ": " << s.ToString();
      EXPECT_TRUE(r.file.empty()) << b.what;
    }
}

}  // namespace
}  // namespace sdc
