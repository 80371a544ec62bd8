// report/plan_solve: the solved value is the largest that fits (the plan there fits, the next value up does
// not), for each parameter; dim keeps to multiples of the heads with hidden following the ratio; bounds,
// refusals with the overshoot, and the text table.
#include "report/plan_solve.h"

#include <gtest/gtest.h>

#include <string>

#include "report/plan_test_shape.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

ModelShape Base() { return test::StoriesShape(); }

// Every role at 4 bits, a 1000-byte manifest measured on 10 tensors of 1 section, 1000 bank bytes, no assets.
MeasuredRates Rates() {
  MeasuredRates m;
  m.source = "m.sdc";
  m.encoder = "sdcodec 0.1.0; method=scalar; bits=4";
  m.bits_per_weight = {4, 4, 4, 4, 32, 4};
  m.manifest_bytes = 1000;
  m.tensor_hashes = 20;
  m.sections_per_tensor = {1, 1, 1, 1, 1, 1};
  m.bank_bytes = 1000;
  return m;
}

double Total(const ModelShape& s) {
  Json p;
  EXPECT_TRUE(Plan(s, Rates(), &p).ok());
  return p["total_bytes"].get<double>();
}

// Solves, then checks the answer against Plan directly: the value fits and the next one up does not.
Json SolveAndCheck(ModelShape s, SolveFor what, double budget, double ratio = 0) {
  Json p;
  const Status st = Solve(s, Rates(), {what, budget, ratio}, &p);
  EXPECT_TRUE(st.ok()) << st.ToString();
  if (!st.ok()) return p;
  const Json& solve = p["solve"];
  EXPECT_EQ(solve["parameter"], SolveForName(what));
  EXPECT_LE(p["total_bytes"].get<double>(), budget);
  EXPECT_DOUBLE_EQ(solve["left_bytes"].get<double>(), budget - p["total_bytes"].get<double>());
  if (!solve["next"].is_null()) {
    EXPECT_GT(solve["next"]["total_bytes"].get<double>(), budget);
  }
  EXPECT_FALSE(solve["next"].contains("solve"));
  return p;
}

TEST(PlanSolve, LayersAndHidden) {
  const double block = Total(Base()) - Total([] {
                         auto s = Base();
                         s.layers = 4;
                         return s;
                       }());
  const double budget = Total(Base()) + 2.5 * block;  // room for two more blocks, not three
  Json p = SolveAndCheck(Base(), SolveFor::kLayers, budget);
  EXPECT_EQ(p["solve"]["value"], 7u);
  EXPECT_EQ(p["shape"]["layers"], 7u);
  EXPECT_EQ(p["solve"]["next"]["shape"]["layers"], 8u);
  EXPECT_DOUBLE_EQ(p["total_bytes"].get<double>(), Total([] {
                     auto s = Base();
                     s.layers = 7;
                     return s;
                   }()));

  p = SolveAndCheck(Base(), SolveFor::kHidden, 1e6);
  const uint64_t h = p["solve"]["value"].get<uint64_t>();
  EXPECT_EQ(p["shape"]["hidden"], h);
  EXPECT_EQ(p["solve"]["next"]["shape"]["hidden"], h + 1);
  EXPECT_GT(h, 172u);
}

TEST(PlanSolve, DimStepsByHeadsAndHiddenFollowsTheRatio) {
  for (double ratio : {0.0, 4.0}) {  // 0: the shape's 172 / 64
    Json p = SolveAndCheck(Base(), SolveFor::kDim, 2e6, ratio);
    const uint64_t dim = p["solve"]["value"].get<uint64_t>();
    EXPECT_EQ(dim % 8, 0u);
    EXPECT_EQ(p["shape"]["dim"], dim);
    const double r = ratio > 0 ? ratio : 172.0 / 64;
    EXPECT_DOUBLE_EQ(p["solve"]["mlp_ratio"].get<double>(), r);
    EXPECT_EQ(p["shape"]["hidden"], static_cast<uint64_t>(std::llround(r * dim)));
    EXPECT_EQ(p["solve"]["next"]["shape"]["dim"], dim + 8);
    EXPECT_GT(dim, 64u);
  }
}

// unique-layers cannot pass layers: when every block fits as a unique one, the answer is layers, with no next.
TEST(PlanSolve, UniqueLayersStopAtLayers) {
  ModelShape s = Base();
  s.layers = 12;
  Json p = SolveAndCheck(s, SolveFor::kUniqueLayers, 1e9);
  EXPECT_EQ(p["solve"]["value"], 12u);
  EXPECT_EQ(p["solve"]["bound"], 12u);
  EXPECT_TRUE(p["solve"]["next"].is_null());
  const double two = Total([] {
    auto t = Base();
    t.layers = 12;
    t.unique_layers = 2;
    return t;
  }());
  p = SolveAndCheck(s, SolveFor::kUniqueLayers, two + 1);
  EXPECT_EQ(p["solve"]["value"], 2u);
  EXPECT_EQ(p["shape"]["layers"], 12u);
}

TEST(PlanSolve, Refusals) {
  Json p;
  Status st = Solve(Base(), Rates(), {SolveFor::kLayers, 1000}, &p);
  EXPECT_EQ(st.code(), StatusCode::kBudget);
  const double one = Total([] {
    auto s = Base();
    s.layers = 1;
    return s;
  }());
  char want[64];
  std::snprintf(want, sizeof want, "takes %.0f bytes, %.0f over the budget of 1000", one, one - 1000);
  EXPECT_NE(st.message().find(want), std::string::npos) << st.ToString();

  ModelShape shared = Base();
  shared.unique_layers = 2;
  st = Solve(shared, Rates(), {SolveFor::kLayers, 1e6}, &p);
  EXPECT_NE(st.message().find("solve unique-layers"), std::string::npos) << st.ToString();

  ModelShape bad = Base();
  bad.kv_heads = 16;  // wrong whatever the value
  EXPECT_EQ(Solve(bad, Rates(), {SolveFor::kHidden, 1e6}, &p).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(Solve(Base(), Rates(), {SolveFor::kHidden, 0}, &p).ok());
  EXPECT_FALSE(ParseSolveFor("width").has_value());
  EXPECT_EQ(ParseSolveFor("unique-layers"), SolveFor::kUniqueLayers);
}

// Huge budgets: the doubling search stops at overflow instead of wrapping around.
TEST(PlanSolve, HugeBudget) {
  Json p = SolveAndCheck(Base(), SolveFor::kLayers, 1e30);
  EXPECT_GT(p["solve"]["value"].get<uint64_t>(), uint64_t{1} << 40);
}

TEST(PlanSolve, TextShowsBothColumnsAndTheSetting) {
  std::vector<Json> plans;
  for (uint64_t v : {256, 1024}) {
    ModelShape s = Base();
    s.vocab = v;
    plans.push_back(SolveAndCheck(s, SolveFor::kDim, 1.5e6));
  }
  const std::string text = PlanText(plans);
  EXPECT_NE(text.find("method=scalar; bits=4): predictions hold for that setting"), std::string::npos) << text;
  EXPECT_NE(text.find("largest dim whose predicted file fits 1500000 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("left of budget"), std::string::npos);
  const std::string dim = std::to_string(plans[0]["solve"]["value"].get<uint64_t>());
  EXPECT_NE(text.find(dim + " fits"), std::string::npos) << text;
  EXPECT_NE(text.find(std::to_string(plans[0]["solve"]["value"].get<uint64_t>() + 8) + " over"), std::string::npos);
  EXPECT_EQ(text.find("note: that file was fitted"), std::string::npos);
  plans[0]["measured_budget"] = 150000;
  EXPECT_NE(PlanText(plans).find("note: that file was fitted to a budget of 150000 bytes"), std::string::npos);
}

}  // namespace
}  // namespace sdc
