// report/report_html: the page drawn from an inspect report is self-contained (no script, no URL, nothing
// fetched), balanced enough for a browser to lay out, names every tensor, draws a bar segment per role and
// per tensor part, shows the budget left, escapes names, and lists the banks with their users.
#include "report/report_html.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "report/report.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

// Shared bank 0 used by two codebook tensors, a scalar tensor, a raw norm, an asset, and a budget. One
// tensor name carries HTML metacharacters.
std::vector<uint8_t> HtmlFile() {
  test::FileBuilder b;
  const uint32_t b0 = b.AddBankValues(test::Gaussian(16 * 4, 1), 16, 4, DType::kF16);
  auto spec = [&](uint64_t rows, uint64_t cols) {
    test::CodebookSpec s;
    s.dim = 4;
    s.banks = {b0};
    s.coefficients = {0.5f};
    s.scales = test::FloatsAs(DType::kF16, std::vector<float>(rows, 0.25f));
    std::vector<uint8_t> idx(rows * (cols / 4));
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<uint8_t>(i % 16);
    s.indices = {idx};
    return s;
  };
  b.AddCodebookTensor("layers.0.attention.wq.weight", DType::kF32, {8, 16}, spec(8, 16)).role = fb::Role::Attention;
  b.AddCodebookTensor("odd<name>&\"x\"", DType::kF32, {4, 16}, spec(4, 16)).role = fb::Role::Mlp;
  b.AddQuantizedTensor("tok_embeddings.weight", DType::kF32, {32, 8}, test::Gaussian(256, 2), 4, 0).role =
      fb::Role::Embedding;
  b.AddRawTensor("norm.weight", DType::kF32, {8}, test::FloatsAs(DType::kF32, test::Gaussian(8, 3))).role =
      fb::Role::Norm;
  b.AddAsset("tokenizer.json", std::vector<uint8_t>(50, 't'));
  b.manifest().budget_bytes = 100000;
  return b.Build();
}

Json Inspect(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  Status s = Decoder::Open(file, DecodeLimits(), &d);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return s.ok() ? InspectJson(d->container()) : Json();
}

size_t Count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

TEST(ReportHtml, SelfContained) {
  const Json j = Inspect(HtmlFile());
  ASSERT_FALSE(j.is_null());
  const std::string page = InspectHtml(j, "model.sdc");
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* banned :
       {"http:", "https:", "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import"})
    EXPECT_EQ(page.find(banned), std::string::npos) << banned;
  // Every element that opens closes (void elements excepted), in the same count.
  for (const char* tag : {"html", "head", "body", "style", "svg", "table", "tr", "td", "ul", "li", "rect", "title"})
    EXPECT_EQ(Count(page, std::string("<") + tag + ">") + Count(page, std::string("<") + tag + " "),
              Count(page, std::string("</") + tag + ">"))
        << tag;
}

TEST(ReportHtml, NamesEveryTensorAndDrawsEveryPart) {
  const Json j = Inspect(HtmlFile());
  const std::string page = InspectHtml(j, "model.sdc");
  size_t parts = 0, roles = 0, shared = 0;
  for (const Json& t : j["tensors"]) {
    EXPECT_NE(page.find(">" + HtmlEscape(t["name"].get<std::string>()) + "<"), std::string::npos) << t["name"];
    parts += t["parts"].size();
    shared += t["bank_share"].get<double>() > 0;
  }
  for (const auto& [role, bytes] : j["roles"].items()) roles += bytes.get<uint64_t>() > 0;
  // One rect per non-empty role, the budget's "left" rect, one per tensor part and one per bank share.
  EXPECT_EQ(Count(page, "<rect "), roles + 1 + parts + shared);
  EXPECT_EQ(shared, 2u);
  // The raw name never appears unescaped.
  EXPECT_EQ(page.find("odd<name>"), std::string::npos);
  EXPECT_NE(page.find("odd&lt;name&gt;&amp;&quot;x&quot;"), std::string::npos);
  // Budget and what is left of it.
  EXPECT_NE(page.find("left of budget"), std::string::npos);
  EXPECT_NE(page.find("stroke-dasharray"), std::string::npos);
  // The bank table lists both users of bank 0.
  const size_t banks = page.find("<h2>Codebook banks</h2>");
  ASSERT_NE(banks, std::string::npos);
  const std::string bank_table = page.substr(banks);
  EXPECT_NE(bank_table.find("layers.0.attention.wq.weight"), std::string::npos);
  EXPECT_NE(bank_table.find("odd&lt;name&gt;"), std::string::npos);
  EXPECT_EQ(bank_table.find("No codebook banks"), std::string::npos);
  // Each row names the setting behind its rate, and with banks the table has a bank-share column.
  for (const char* label : {">codebook k16 d4<", ">scalar 4b<", ">raw F32<", "<th>bank share</th>"})
    EXPECT_NE(page.find(label), std::string::npos) << label;
}

// Without a budget the role bar spans the file exactly: no dashed "left" rect; without banks, a line says so.
TEST(ReportHtml, NoBudgetNoBanks) {
  test::FileBuilder b;
  b.AddQuantizedTensor("w", DType::kF32, {8, 8}, test::Gaussian(64, 4), 6, 0);
  const Json j = Inspect(b.Build());
  ASSERT_TRUE(j["budget"].is_null());
  const std::string page = InspectHtml(j, "a&b.sdc");
  EXPECT_EQ(page.find("stroke-dasharray"), std::string::npos);
  EXPECT_NE(page.find("No codebook banks"), std::string::npos);
  EXPECT_EQ(page.find("bank share</th>"), std::string::npos);
  EXPECT_NE(page.find("<h1>a&amp;b.sdc</h1>"), std::string::npos);
  // The role segments' widths add up to the bar's 960 units.
  const std::regex rect(R"re(<rect x="[0-9.]+" y="0" width="([0-9.]+)" height="40")re");
  double width = 0;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), rect); it != std::sregex_iterator(); ++it)
    width += std::stod((*it)[1]);
  EXPECT_NEAR(width, 960.0, 0.05);
}

TEST(ReportHtml, Escape) {
  EXPECT_EQ(HtmlEscape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(HtmlEscape("plain.name_0"), "plain.name_0");
}

}  // namespace
}  // namespace sdc
