// report/report_compare: tensors are matched by name across files (first-seen order), a tensor missing from a
// file is null there and has null differences, differences are each file minus the first, and roles are the
// union of the files' role keys with 0 where a file lacks one.
#include "report/report_compare.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

Json Tensor(const std::string& name, const std::string& rep, uint64_t bytes, double bpw, Json snr) {
  return {{"name", name},      {"representation", rep},  {"stored_bytes", bytes},
          {"bank_share", 0.0}, {"bits_per_weight", bpw}, {"snr_db", snr}};
}

Json Report(uint64_t file_bytes, Json tensors, Json roles) {
  return {{"schema", "sdcodec.inspect/1"},
          {"file_bytes", file_bytes},
          {"encoder", "test"},
          {"budget", nullptr},
          {"totals", {{"params", 1000}, {"bits_per_weight", 4.0}}},
          {"roles", roles},
          {"tensors", tensors}};
}

std::vector<std::pair<std::string, Json>> TwoFiles() {
  Json a = Report(1000,
                  {Tensor("emb", "scalar", 400, 6.0, 30.0), Tensor("wq", "scalar", 300, 6.0, 31.0),
                   Tensor("norm", "raw", 64, 32.0, nullptr)},
                  {{"embedding", 400}, {"attention", 300}, {"norm", 64}, {"header", 40}, {"manifest", 196}});
  Json b = Report(800,
                  {Tensor("wq", "codebook", 200, 4.0, 25.5), Tensor("emb", "scalar", 300, 4.5, 24.0),
                   Tensor("extra", "raw", 16, 32.0, nullptr)},
                  {{"embedding", 300}, {"attention", 200}, {"banks", 100}, {"header", 40}, {"manifest", 144}});
  return {{"a.sdc", a}, {"b.sdc", b}};
}

TEST(ReportCompare, MatchesByName) {
  const Json j = CompareJson(TwoFiles());
  EXPECT_EQ(j["schema"], "sdcodec.compare/1");
  ASSERT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["files"][0]["label"], "a.sdc");
  EXPECT_EQ(j["files"][1]["file_bytes"], 800);
  // First-seen order over the files: a's tensors, then b's new one.
  ASSERT_EQ(j["tensors"].size(), 4u);
  std::vector<std::string> names;
  for (const Json& t : j["tensors"]) names.push_back(t["name"]);
  EXPECT_EQ(names, (std::vector<std::string>{"emb", "wq", "norm", "extra"}));
  const Json& wq = j["tensors"][1];
  EXPECT_EQ(wq["files"][0]["representation"], "scalar");
  EXPECT_EQ(wq["files"][1]["representation"], "codebook");
  EXPECT_EQ(wq["delta_bytes"], Json::array({-100}));
  EXPECT_DOUBLE_EQ(wq["delta_bits_per_weight"][0].get<double>(), -2.0);
  EXPECT_DOUBLE_EQ(wq["delta_snr_db"][0].get<double>(), -5.5);
}

TEST(ReportCompare, MissingAndLossless) {
  const Json j = CompareJson(TwoFiles());
  const Json& norm = j["tensors"][2];  // only in a
  EXPECT_FALSE(norm["files"][0].is_null());
  EXPECT_TRUE(norm["files"][1].is_null());
  EXPECT_TRUE(norm["delta_bytes"][0].is_null());
  EXPECT_TRUE(norm["delta_bits_per_weight"][0].is_null());
  EXPECT_TRUE(norm["delta_snr_db"][0].is_null());
  const Json& extra = j["tensors"][3];  // only in b
  EXPECT_TRUE(extra["files"][0].is_null());
  EXPECT_EQ(extra["files"][1]["stored_bytes"], 16);
  // Roles: the union, 0 where a file lacks the key.
  EXPECT_EQ(j["roles"]["norm"], Json::array({64, 0}));
  EXPECT_EQ(j["roles"]["banks"], Json::array({0, 100}));
  EXPECT_EQ(j["roles"]["embedding"], Json::array({400, 300}));
  const std::string text = CompareText(j);
  EXPECT_NE(text.find("(absent)"), std::string::npos);
  EXPECT_NE(text.find("-100 B -2.000 b/w -5.50 dB"), std::string::npos) << text;
  EXPECT_NE(text.find("bytes by role"), std::string::npos);
  for (const char* n : {"emb", "wq", "norm", "extra"}) EXPECT_NE(text.find(std::string("  ") + n), std::string::npos);
}

// Three files: one difference column per later file, each against the first; a file may repeat.
TEST(ReportCompare, ThreeFiles) {
  auto files = TwoFiles();
  files.push_back(files[0]);
  files.back().first = "c.sdc";
  const Json j = CompareJson(files);
  ASSERT_EQ(j["files"].size(), 3u);
  const Json& emb = j["tensors"][0];
  EXPECT_EQ(emb["delta_bytes"], Json::array({-100, 0}));
  EXPECT_DOUBLE_EQ(emb["delta_snr_db"][1].get<double>(), 0.0);
  EXPECT_EQ(j["roles"]["attention"], Json::array({300, 200, 300}));
  EXPECT_NE(CompareText(j).find("[3] c.sdc"), std::string::npos);
  EXPECT_EQ(CompareText(j).find("bank-share"), std::string::npos);
  // With banks in any file, each tensor shows its share of them (shared against per-tensor banks).
  files[1].second["tensors"][0]["bank_share"] = 1234.0;
  const std::string text = CompareText(CompareJson(files));
  EXPECT_NE(text.find("bank-share"), std::string::npos);
  EXPECT_NE(text.find("    1234"), std::string::npos);
}

}  // namespace
}  // namespace sdc
