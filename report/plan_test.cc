// report/plan: parameter counts of the Llama-style shape (stories260K's counted by hand), rates read from an
// inspect report (per-role bits/weight, borrowing for missing roles, overheads), the prediction adding up,
// and one-line errors for impossible shapes and reports.
#include "report/plan.h"

#include <gtest/gtest.h>

#include <string>

#include "report/plan_test_shape.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

ModelShape Stories() { return test::StoriesShape(); }

// Role order as Role: embedding, head, attention, mlp, norm, other.
TEST(Plan, StoriesShapeParams) {
  ShapeParams p;
  ASSERT_TRUE(CountParams(Stories(), &p).ok());
  EXPECT_EQ(p.params[0], 512u * 64);  // tied: no head
  EXPECT_EQ(p.params[1], 0u);
  EXPECT_EQ(p.params[2], 5u * (2 * 64 * 64 + 2 * 64 * 32));  // q, o D x D; k, v D x D*4/8
  EXPECT_EQ(p.params[3], 5u * 3 * 64 * 172);
  EXPECT_EQ(p.params[4], (2u * 5 + 1) * 64);
  EXPECT_EQ(p.tensors[2] + p.tensors[3] + p.tensors[4] + p.tensors[0], 5u * 9 + 1 + 1);
}

TEST(Plan, ShapeVariants) {
  ModelShape s = Stories();
  s.tied = false;
  s.factor_rank = 16;
  s.unique_layers = 2;
  s.gated_mlp = false;
  ShapeParams p;
  ASSERT_TRUE(CountParams(s, &p).ok());
  EXPECT_EQ(p.params[0], 512u * 16 + 16 * 64);
  EXPECT_EQ(p.tensors[0], 2u);
  EXPECT_EQ(p.params[1], 512u * 64);
  EXPECT_EQ(p.params[2], 2u * (2 * 64 * 64 + 2 * 64 * 32));
  EXPECT_EQ(p.params[3], 2u * 2 * 64 * 172);
  EXPECT_EQ(p.params[4], 5u * 64);
}

TEST(Plan, BadShapes) {
  ShapeParams p;
  ModelShape s = Stories();
  s.unique_layers = 6;
  EXPECT_NE(CountParams(s, &p).message().find("more unique blocks than layers"), std::string::npos);
  s = Stories();
  s.heads = 7;
  EXPECT_FALSE(CountParams(s, &p).ok());
  s = Stories();
  s.kv_heads = 16;
  EXPECT_FALSE(CountParams(s, &p).ok());
  s = Stories();
  s.vocab = 0;
  EXPECT_FALSE(CountParams(s, &p).ok());
  s = Stories();
  s.vocab = s.dim = uint64_t{1} << 40;
  s.heads = s.kv_heads = 1;
  EXPECT_NE(CountParams(s, &p).message().find("overflows"), std::string::npos);
}

Json TensorEntry(const std::string& role, std::vector<uint64_t> shape, uint64_t bytes) {
  uint64_t numel = 1;
  for (uint64_t d : shape) numel *= d;
  return {{"name", role + std::to_string(bytes)},
          {"shape", shape},
          {"role", role},
          {"numel", numel},
          {"stored_bytes", bytes}};
}

// A measured file: embedding 256 x 64 at 4 bits, attention at 5, MLP at 6, no head, no norm; 300 manifest
// bytes over 3 tensors (one section each: 6 hashes), 1000 bank bytes, a 2560-byte tokenizer (10 bytes per
// vocabulary entry).
Json Measured() {
  return {{"schema", "sdcodec.inspect/1"},
          {"tensors", Json::array({TensorEntry("embedding", {256, 64}, 256 * 64 / 2),
                                   TensorEntry("attention", {64, 64}, 64 * 64 * 5 / 8),
                                   TensorEntry("mlp", {64, 128}, 64 * 128 * 6 / 8)})},
          {"manifest", {{"stored_bytes", 300}}},
          {"roles", {{"banks", 1000}, {"assets", 2560}}}};
}

TEST(Plan, RatesFromReport) {
  MeasuredRates m;
  ASSERT_TRUE(RatesFromReport(Measured(), "m.sdc", &m).ok());
  EXPECT_DOUBLE_EQ(m.bits_per_weight[0], 4.0);
  EXPECT_DOUBLE_EQ(m.bits_per_weight[1], 4.0);  // head borrows the embedding's rate
  EXPECT_DOUBLE_EQ(m.bits_per_weight[2], 5.0);
  EXPECT_DOUBLE_EQ(m.bits_per_weight[3], 6.0);
  EXPECT_DOUBLE_EQ(m.bits_per_weight[4], 32.0);  // norms: raw f32 when unmeasured
  EXPECT_FALSE(m.measured[1]);
  EXPECT_TRUE(m.measured[0]);
  EXPECT_DOUBLE_EQ(m.manifest_bytes, 300.0);
  EXPECT_DOUBLE_EQ(m.tensor_hashes, 6.0);
  EXPECT_DOUBLE_EQ(m.sections_per_tensor[2], 1.0);
  EXPECT_EQ(m.bank_bytes, 1000u);
  EXPECT_EQ(m.measured_vocab, 256u);
  EXPECT_DOUBLE_EQ(m.asset_bytes_per_vocab_entry, 10.0);
}

TEST(Plan, PredictionAddsUp) {
  MeasuredRates m;
  ASSERT_TRUE(RatesFromReport(Measured(), "m.sdc", &m).ok());
  ModelShape s = Stories();
  s.tied = false;
  Json p;
  ASSERT_TRUE(Plan(s, m, &p).ok());
  EXPECT_EQ(p["schema"], "sdcodec.plan/1");
  EXPECT_EQ(p["measured_from"], "m.sdc");
  EXPECT_DOUBLE_EQ(p["roles"]["embedding"]["bytes"].get<double>(), 512 * 64 * 4 / 8.0);
  EXPECT_DOUBLE_EQ(p["roles"]["head"]["bytes"].get<double>(), 512 * 64 * 4 / 8.0);
  EXPECT_DOUBLE_EQ(p["roles"]["attention"]["bytes"].get<double>(), 61440 * 5 / 8.0);
  EXPECT_DOUBLE_EQ(p["roles"]["mlp"]["bytes"].get<double>(), 165120 * 6 / 8.0);
  EXPECT_DOUBLE_EQ(p["roles"]["norm"]["bytes"].get<double>(), 704 * 4.0);
  EXPECT_DOUBLE_EQ(p["assets"].get<double>(), 5120.0);
  EXPECT_EQ(p["tensors"], 1 + 1 + 20 + 15 + 11);
  EXPECT_DOUBLE_EQ(p["manifest"].get<double>(), 300.0 + 8 * (2 * 48 - 6));  // 8 bytes a hash beyond the 6
  double total = 40 + 1000 + p["assets"].get<double>() + p["manifest"].get<double>();
  uint64_t params = 0;
  for (const auto& [role, r] : p["roles"].items()) {
    total += r["bytes"].get<double>();
    params += r["params"].get<uint64_t>();
  }
  EXPECT_DOUBLE_EQ(p["total_bytes"].get<double>(), total);
  EXPECT_EQ(p["params"].get<uint64_t>(), params);
  // A smaller vocabulary frees exactly its embedding, head and tokenizer bytes.
  ModelShape small = s;
  small.vocab = 256;
  Json q;
  ASSERT_TRUE(Plan(small, m, &q).ok());
  EXPECT_DOUBLE_EQ(p["total_bytes"].get<double>() - q["total_bytes"].get<double>(), 256 * 64 * 4 / 8.0 * 2 + 2560);
  const std::string text = PlanText({p, q});
  EXPECT_NE(text.find("rates measured on m.sdc"), std::string::npos);
  EXPECT_NE(text.find("vs first"), std::string::npos);
  EXPECT_NE(text.find("embedding bytes"), std::string::npos);
}

// Scales cost bytes per row, not per weight: measured on 64-wide rows, a 128-wide model pays the same bytes
// per scale but half as many per weight; with groups of 32 columns, per group.
TEST(Plan, ScalesGoByRow) {
  Json r = Measured();
  for (Json& t : r["tensors"]) {
    const uint64_t rows = t["shape"][0].get<uint64_t>();
    t["params"] = {{"group_size", 0}};
    t["parts"] = {{"scales", 2 * rows}, {"codes", t["stored_bytes"].get<uint64_t>() - 2 * rows}};
  }
  MeasuredRates m;
  ASSERT_TRUE(RatesFromReport(r, "m.sdc", &m).ok());
  EXPECT_DOUBLE_EQ(m.bytes_per_scale[2], 2.0);
  EXPECT_DOUBLE_EQ(m.bits_per_weight[2], 5.0 - 8.0 * 2 * 64 / (64 * 64));
  EXPECT_DOUBLE_EQ(m.bytes_per_scale[1], 2.0);  // the head borrows the embedding's, scales included
  ModelShape s = Stories();
  s.dim = 128;
  Json p;
  ASSERT_TRUE(Plan(s, m, &p).ok());
  const double attn_rows = 5 * (2 * 128 + 2 * 64);
  EXPECT_DOUBLE_EQ(p["roles"]["attention"]["scales"].get<double>(), attn_rows);
  EXPECT_DOUBLE_EQ(p["roles"]["attention"]["bytes"].get<double>(),
                   p["roles"]["attention"]["params"].get<double>() * m.bits_per_weight[2] / 8 + 2 * attn_rows);
  EXPECT_DOUBLE_EQ(
      p["roles"]["attention"]["bits_per_weight"].get<double>(),
      8 * p["roles"]["attention"]["bytes"].get<double>() / p["roles"]["attention"]["params"].get<double>());
  EXPECT_DOUBLE_EQ(p["roles"]["norm"]["scales"].get<double>(), 0.0);
  for (Json& t : r["tensors"]) t["params"]["group_size"] = 32;
  ASSERT_TRUE(RatesFromReport(r, "m.sdc", &m).ok());
  EXPECT_EQ(m.group_size[3], 32u);
  ASSERT_TRUE(Plan(s, m, &p).ok());
  EXPECT_DOUBLE_EQ(p["roles"]["mlp"]["scales"].get<double>(), 5 * (2 * 172 * 4 + 128 * 6));  // ceil(172 / 32) = 6
}

// Banks: shared ones (a bank with two users) are one fixed cost; per-tensor ones (no bank with two users)
// scale with the planned tensors of each role, and an unused bank stays a fixed cost.
TEST(Plan, BankModels) {
  auto codebook = [](Json t, std::vector<int> banks, double share) {
    t["representation"] = "codebook";
    t["params"] = {{"banks", banks}};
    t["bank_share"] = share;
    return t;
  };
  Json shared = Measured();
  shared["tensors"][1] = codebook(shared["tensors"][1], {0}, 400);
  shared["tensors"][2] = codebook(shared["tensors"][2], {0}, 600);
  MeasuredRates m;
  ASSERT_TRUE(RatesFromReport(shared, "s", &m).ok());
  EXPECT_FALSE(m.per_tensor_banks);
  Json p;
  ASSERT_TRUE(Plan(Stories(), m, &p).ok());
  EXPECT_EQ(p["bank_model"], "shared");
  EXPECT_DOUBLE_EQ(p["banks"].get<double>(), 1000.0);

  Json own = Measured();
  own["roles"]["banks"] = 1000 + 50;  // bank 2 (50 bytes) is nobody's
  own["tensors"][1] = codebook(own["tensors"][1], {0}, 400);
  own["tensors"][2] = codebook(own["tensors"][2], {1}, 600);
  ASSERT_TRUE(RatesFromReport(own, "o", &m).ok());
  EXPECT_TRUE(m.per_tensor_banks);
  EXPECT_DOUBLE_EQ(m.bank_bytes_per_tensor[2], 400.0);
  EXPECT_DOUBLE_EQ(m.bank_bytes_per_tensor[3], 600.0);
  EXPECT_DOUBLE_EQ(m.bank_bytes_per_tensor[0], 0.0);  // the embedding was scalar: measured, no banks
  EXPECT_DOUBLE_EQ(m.bank_bytes_per_tensor[1], 0.0);  // head borrows the embedding's
  EXPECT_EQ(m.bank_bytes, 50u);
  ASSERT_TRUE(Plan(Stories(), m, &p).ok());
  EXPECT_EQ(p["bank_model"], "per_tensor");
  EXPECT_DOUBLE_EQ(p["banks"].get<double>(), 50 + 20 * 400.0 + 15 * 600.0);
  EXPECT_NE(PlanText({p}).find("banks (per tensor)"), std::string::npos);

  // One codebook tensor: its bank has one user either way, so the encoder string decides (default shared).
  Json one = Measured();
  one["tensors"][2] = codebook(one["tensors"][2], {0}, 1000);
  ASSERT_TRUE(RatesFromReport(one, "1", &m).ok());
  EXPECT_FALSE(m.per_tensor_banks);
  EXPECT_EQ(m.bank_bytes, 1000u);
  one["encoder"] = "sdcodec 0.1.0; method=codebook; banks=per-tensor";
  ASSERT_TRUE(RatesFromReport(one, "1", &m).ok());
  EXPECT_TRUE(m.per_tensor_banks);
  EXPECT_DOUBLE_EQ(m.bank_bytes_per_tensor[3], 1000.0);
}

TEST(Plan, BadReports) {
  MeasuredRates m;
  Json r = Measured();
  r["schema"] = "sdcodec.inspect/2";
  EXPECT_NE(RatesFromReport(r, "x", &m).message().find("not sdcodec.inspect/1"), std::string::npos);
  r = Measured();
  r["tensors"] = Json::array();
  EXPECT_NE(RatesFromReport(r, "x", &m).message().find("no tensors"), std::string::npos);
  r = Measured();
  r["tensors"] = Json::array({TensorEntry("norm", {64}, 256)});
  EXPECT_FALSE(RatesFromReport(r, "x", &m).ok());
  r = Measured();
  r["tensors"][0]["role"] = "trunk";
  EXPECT_FALSE(RatesFromReport(r, "x", &m).ok());
}

}  // namespace
}  // namespace sdc
