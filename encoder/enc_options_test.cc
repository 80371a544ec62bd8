// encoder/enc_options: the one option table every interface goes through.
#include "encoder/enc_options.h"

#include <gtest/gtest.h>

#include <set>

namespace sdc {
namespace {

using Json = nlohmann::json;

const OptionSpec& Spec(const std::string& key) {
  for (const OptionSpec& s : EncodeOptionTable())
    if (JsonKey(s) == key) return s;
  ADD_FAILURE() << "no option " << key;
  return EncodeOptionTable()[0];
}

// Every option reads back what was set: the getter and setter name the same field, for every type.
TEST(EncodeOptionTable, EveryOptionReadsBackWhatWasSet) {
  const std::map<std::string, Json> values = {{"method", "codebook"},
                                              {"bits", 3},
                                              {"group", 32},
                                              {"zstd_level", 7},
                                              {"raw_dtype", "bf16"},
                                              {"min_numel", 77},
                                              {"budget", 123456},
                                              {"reserve", 99},
                                              {"distortion", "absolute"},
                                              {"target_snr", 12.5},
                                              {"roles", Json::array({"a*=head", "b=mlp"})},
                                              {"alignment", 64},
                                              {"k", 17},
                                              {"dim", 4},
                                              {"codebooks", 3},
                                              {"per_tensor_banks", true},
                                              {"lambda", 0.25},
                                              {"kmeans_iters", 9},
                                              {"beam", 5},
                                              {"residuals", Json::array({0.0, 0.01})},
                                              {"seed", 42},
                                              {"device", "cpu"},
                                              {"damping", 0.05},
                                              {"act_order", false},
                                              {"feedback", false},
                                              {"tied_weight", 2.5},
                                              {"rate_lambdas", Json::array({0.0, 0.5})},
                                              {"sensitivity", Json::object({{"a", 2.0}, {"b.weight", 0.5}})}};
  std::set<std::string> covered;
  for (const OptionSpec& s : EncodeOptionTable()) {
    const std::string key = JsonKey(s);
    ASSERT_TRUE(values.count(key)) << "the test has no value for option " << key;
    EncodeOptions o;
    ASSERT_TRUE(SetEncodeOption(s, values.at(key), &o).ok()) << key;
    EXPECT_EQ(s.get(o), values.at(key)) << key;
    EXPECT_NE(s.get(EncodeOptions()), values.at(key)) << key << ": the test value equals the default";
    EXPECT_FALSE(s.help.empty()) << key;
    covered.insert(key);
  }
  EXPECT_EQ(covered.size(), values.size());
}

TEST(EncodeOptionTable, RefusesValuesOutsideTypeAndRange) {
  struct Bad {
    const char* key;
    Json value;
    const char* message;
  };
  const Bad bad[] = {
      {"budget", -5, "integer in 0..2^63-1"},
      {"bits", 9, "2..8"},
      {"bits", 1, "2..8"},
      {"bits", 4.5, "integer"},
      {"bits", "4", "integer"},
      {"zstd_level", 23, "0..22"},
      {"method", "zip", "raw|scalar|codebook"},
      {"per_tensor_banks", 1, "true or false"},
      {"residuals", Json::array({0.7}), "0..0.5"},
      {"residuals", 0.1, "list"},
      {"roles", Json::array({"a=bogus"}), "GLOB=ROLE"},
      {"roles", Json::array({"=head"}), "GLOB=ROLE"},
      {"target_snr", -1.0, "0..1000"},
      {"lambda", -0.1, "number"},
      {"k", 0, "1..65536"},
      {"damping", 2.0, "0..1"},
      {"sensitivity", Json::object({{"a", -1.0}}), "'a'"},
      {"sensitivity", Json::array({1.0}), "map tensor names"},
      {"rate_lambdas", Json::array({-0.5}), "0..100"},
  };
  for (const Bad& b : bad) {
    EncodeOptions o;
    const Status s = SetEncodeOption(Spec(b.key), b.value, &o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << b.key << " = " << b.value.dump();
    EXPECT_NE(s.message().find(b.message), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(b.key), std::string::npos) << s.message();
  }
}

TEST(EncodeOptionTable, JsonObjectsAndTheirRules) {
  EncodeOptions o;
  EXPECT_TRUE(EncodeOptionsFromJson(Json(), &o).ok());
  EXPECT_TRUE(EncodeOptionsFromJson(Json::parse(R"({"budget": 1000, "roles": {"x*": "norm"}})"), &o).ok());
  EXPECT_EQ(o.budget, 1000u);
  ASSERT_EQ(o.roles.size(), 1u);
  EXPECT_EQ(o.roles[0].pattern, "x*");
  EXPECT_EQ(o.roles[0].role, Role::kNorm);
  EXPECT_EQ(EncodeOptionsFromJson(Json::parse(R"({"bugdet": 1})"), &o).message(), "unknown encode option 'bugdet'");
  EXPECT_FALSE(EncodeOptionsFromJson(Json::array(), &o).ok());
  EncodeOptions both;
  EXPECT_NE(EncodeOptionsFromJson(Json::parse(R"({"budget": 10, "target_snr": 20})"), &both).message().find("not both"),
            std::string::npos);
  EncodeOptions reserve;
  EXPECT_FALSE(EncodeOptionsFromJson(Json::parse(R"({"budget": 10, "reserve": 10})"), &reserve).ok());
  EncodeOptions group;
  EXPECT_FALSE(EncodeOptionsFromJson(Json::parse(R"({"method": "codebook", "dim": 8, "group": 12})"), &group).ok());
}

}  // namespace
}  // namespace sdc
