// report/: the inspect JSON of spec §13 accounts for every byte — parts, roles and sections each add up to
// the file size, every section has exactly one owner, and per-tensor numbers match the manifest.
#include "report/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

std::vector<uint8_t> ReportFile(uint32_t alignment, bool zstd) {
  test::FileBuilder b;
  b.SetAlignment(alignment);
  b.SetManifestZstd(zstd);
  const fb::Codec codec = zstd ? fb::Codec::Zstd : fb::Codec::Raw;
  b.AddRawTensor("tok_embeddings.weight", DType::kF32, {8, 4}, test::FloatsAs(DType::kF32, test::Gaussian(32, 1)),
                 DType::kF32, codec)
      .role = fb::Role::Embedding;
  fb::TensorT& wq =
      b.AddQuantizedTensor("layers.0.attention.wq.weight", DType::kF32, {16, 16}, test::Gaussian(256, 2), 5, 8, codec);
  wq.role = fb::Role::Attention;
  wq.role_source = 1;
  wq.snr_db = 21.5f;
  b.AddQuantizedTensor("layers.0.feed_forward.w1.weight", DType::kBF16, {12, 16}, test::Gaussian(192, 3), 3, 0, codec)
      .role = fb::Role::Mlp;
  b.AddRawTensor("norm.weight", DType::kF32, {16}, test::FloatsAs(DType::kF16, test::Gaussian(16, 4)), DType::kF16)
      .role = fb::Role::Norm;
  b.AddRawTensor("output.weight", DType::kU8, {0, 5}, std::vector<uint8_t>{}).role = fb::Role::Head;
  b.AddAsset("tokenizer.json", std::vector<uint8_t>(123, 'x'), codec);
  b.AddAsset("config.json", std::vector<uint8_t>(9, 'y'));
  b.manifest().encoder = "test builder";
  b.manifest().budget_bytes = 100000;
  return b.Build();
}

Json Inspect(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  Status s = Decoder::Open(file, DecodeLimits(), &d);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return Json();
  return InspectJson(d->container());
}

uint64_t Sum(const Json& object) {
  uint64_t total = 0;
  for (const auto& [k, v] : object.items()) total += v.get<uint64_t>();
  return total;
}

// parts and roles each sum to the file size, and the section list plus header, manifest and padding does too.
TEST(Report, EveryByteIsAccountedFor) {
  for (uint32_t alignment : {0u, 64u})
    for (bool zstd : {false, true}) {
      const std::vector<uint8_t> file = ReportFile(alignment, zstd);
      const Json j = Inspect(file);
      ASSERT_FALSE(j.is_null());
      SCOPED_TRACE("alignment " + std::to_string(alignment) + (zstd ? " zstd" : " raw"));
      EXPECT_EQ(j["schema"], "sdcodec.inspect/1");
      EXPECT_EQ(j["file_bytes"].get<uint64_t>(), file.size());
      EXPECT_EQ(Sum(j["parts"]), file.size());
      EXPECT_EQ(Sum(j["roles"]), file.size());
      uint64_t sections = 0;
      for (const Json& s : j["sections"]) sections += s["stored_bytes"].get<uint64_t>();
      EXPECT_EQ(sections, j["parts"]["sections"].get<uint64_t>());
      EXPECT_EQ(kHeaderSize + j["manifest"]["stored_bytes"].get<uint64_t>() + sections +
                    j["parts"]["padding"].get<uint64_t>(),
                file.size());
      EXPECT_EQ(j["parts"]["header"].get<uint64_t>(), kHeaderSize);
      EXPECT_EQ(j["manifest"]["codec"], zstd && alignment == 0 ? "zstd" : "raw");  // aligned manifests are raw
      EXPECT_EQ(j["parts"]["padding"].get<uint64_t>() > 0, alignment > 0);
      EXPECT_EQ(j["roles"]["padding"], j["parts"]["padding"]);
      EXPECT_EQ(j["roles"]["manifest"], j["manifest"]["stored_bytes"]);
    }
}

// Every section is listed once, in index order, with an owner and a part name that match the manifest, and
// every tensor part and asset points at a distinct section.
TEST(Report, EverySectionHasOneOwner) {
  const std::vector<uint8_t> file = ReportFile(64, false);
  const Json j = Inspect(file);
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
  const Container& c = d->container();
  ASSERT_EQ(j["sections"].size(), c.section_count());
  std::set<std::string> owners_and_parts;
  for (uint32_t i = 0; i < c.section_count(); ++i) {
    const Json& s = j["sections"][i];
    EXPECT_EQ(s["index"].get<uint32_t>(), i);
    EXPECT_NE(s["owner"], "?") << "section " << i;
    EXPECT_NE(s["part"], "?") << "section " << i;
    EXPECT_EQ(s["offset"].get<uint64_t>(), c.data_start() + c.section(i).offset());
    EXPECT_EQ(s["offset"].get<uint64_t>() % 64, 0u);
    EXPECT_EQ(s["stored_bytes"].get<uint64_t>(), c.section(i).stored_size());
    EXPECT_EQ(s["raw_bytes"].get<uint64_t>(), c.section(i).raw_size());
    EXPECT_TRUE(owners_and_parts.insert(s["owner"].get<std::string>() + "/" + s["part"].get<std::string>()).second);
  }
  // The owners named are exactly the tensors' parts and the assets.
  std::map<std::string, std::string> kind_of_part = {
      {"data", "tensor_data"}, {"scales", "scales"}, {"codes", "codes"}, {"asset", "asset"}};
  for (const Json& s : j["sections"]) EXPECT_EQ(s["kind"], kind_of_part[s["part"].get<std::string>()]);
  EXPECT_TRUE(owners_and_parts.count("layers.0.attention.wq.weight/scales"));
  EXPECT_TRUE(owners_and_parts.count("layers.0.attention.wq.weight/codes"));
  EXPECT_TRUE(owners_and_parts.count("asset:tokenizer.json/asset"));
  EXPECT_TRUE(owners_and_parts.count("output.weight/data"));
}

// Per-tensor entries: stored bytes are the sum of their parts, roles total the tensors of each role, and
// the fields carry the manifest's values (role source, representation, params, null SNR when lossless).
TEST(Report, TensorEntries) {
  const std::vector<uint8_t> file = ReportFile(0, true);
  const Json j = Inspect(file);
  std::map<std::string, uint64_t> by_role;
  uint64_t params = 0, tensor_bytes = 0;
  for (const Json& t : j["tensors"]) {
    EXPECT_EQ(Sum(t["parts"]), t["stored_bytes"].get<uint64_t>()) << t["name"];
    by_role[t["role"].get<std::string>()] += t["stored_bytes"].get<uint64_t>();
    params += t["numel"].get<uint64_t>();
    tensor_bytes += t["stored_bytes"].get<uint64_t>();
  }
  for (const char* role : {"embedding", "head", "attention", "mlp", "norm", "other"})
    EXPECT_EQ(j["roles"][role].get<uint64_t>(), by_role[role]) << role;
  EXPECT_EQ(j["totals"]["params"].get<uint64_t>(), params);
  EXPECT_EQ(j["totals"]["tensor_bytes"].get<uint64_t>(), tensor_bytes);
  uint64_t asset_bytes = 0;
  for (const Json& a : j["assets"]) asset_bytes += a["stored_bytes"].get<uint64_t>();
  EXPECT_EQ(j["roles"]["assets"].get<uint64_t>(), asset_bytes);

  const Json& wq = j["tensors"][1];
  EXPECT_EQ(wq["name"], "layers.0.attention.wq.weight");
  EXPECT_EQ(wq["role"], "attention");
  EXPECT_EQ(wq["role_source"], "user");
  EXPECT_EQ(wq["representation"], "scalar");
  EXPECT_EQ(wq["params"]["bits"], 5);
  EXPECT_EQ(wq["params"]["group_size"], 8);
  EXPECT_EQ(wq["params"]["scale_dtype"], "F16");
  EXPECT_NEAR(wq["snr_db"].get<double>(), 21.5, 1e-6);
  EXPECT_EQ(wq["shape"], Json::array({16, 16}));
  EXPECT_TRUE(j["tensors"][0]["snr_db"].is_null());  // lossless: +inf is reported as null
  EXPECT_EQ(j["tensors"][0]["role_source"], "inferred");
  EXPECT_EQ(j["tensors"][3]["params"]["stored_dtype"], "F16");
  EXPECT_EQ(j["tensors"][3]["dtype"], "F32");
  EXPECT_EQ(j["tensors"][4]["bits_per_weight"].get<double>(), 0.0);  // numel 0
  EXPECT_EQ(j["encoder"], "test builder");
  EXPECT_EQ(j["budget"]["bytes"].get<uint64_t>(), 100000u);
  EXPECT_EQ(j["budget"]["used"].get<uint64_t>(), file.size());
  EXPECT_EQ(j["budget"]["left"].get<int64_t>(), 100000 - static_cast<int64_t>(file.size()));
  EXPECT_EQ(j["format_version"], "1.1");
  // The text report renders without throwing and names every tensor.
  const std::string text = InspectText(j);
  for (const Json& t : j["tensors"]) EXPECT_NE(text.find(t["name"].get<std::string>()), std::string::npos);
}

// A file with banks: bank 0 (F16, zstd) shared by "a" and "b"; bank 1 (F32) used by "b" and twice by "c";
// bank 2 (rans16) used by "d" alone; bank 3 used by nobody. Codebook tensors with residuals and u16 indices.
std::vector<uint8_t> BankReportFile(uint32_t alignment) {
  test::FileBuilder b;
  b.SetAlignment(alignment);
  b.SetManifestZstd(alignment == 0);
  const uint32_t b0 = b.AddBankValues(test::Gaussian(16 * 4, 1), 16, 4, DType::kF16, fb::Codec::Zstd);
  const uint32_t b1 = b.AddBankValues(test::Gaussian(300 * 4, 2), 300, 4, DType::kF32);
  const uint32_t b2 = b.AddBankValues(test::Gaussian(10 * 2, 3), 10, 2, DType::kF16, fb::Codec::Rans16);
  b.AddBankValues(test::Gaussian(4 * 4, 4), 4, 4, DType::kF16);
  auto spec = [](uint32_t dim, std::vector<uint32_t> banks, uint64_t rows, uint64_t cols, bool wide) {
    test::CodebookSpec s;
    s.dim = dim;
    s.banks = banks;
    s.coefficients.assign(banks.size(), 0.5f);
    s.scales = test::FloatsAs(DType::kF16, std::vector<float>(rows, 0.25f));
    const uint64_t n = rows * ((cols + dim - 1) / dim);
    for (size_t m = 0; m < banks.size(); ++m) {
      std::vector<uint8_t> idx(n * (wide ? 2 : 1), 0);
      for (uint64_t i = 0; i < n; ++i) idx[i * (wide ? 2 : 1)] = static_cast<uint8_t>((i * 3 + m) % 4);
      s.indices.push_back(idx);
      s.index_codecs.push_back(wide ? fb::Codec::Rans16 : fb::Codec::Rans8);
    }
    return s;
  };
  b.AddCodebookTensor("a", DType::kF32, {4, 16}, spec(4, {b0}, 4, 16, false)).role = fb::Role::Attention;
  test::CodebookSpec sb = spec(4, {b0, b1}, 6, 10, true);
  sb.residual = true;
  sb.residual_count = 2;
  sb.positions = test::Leb128Gaps({0, 59});
  sb.values = {1, 2};
  sb.step = 0.5f;
  b.AddCodebookTensor("b", DType::kBF16, {6, 10}, sb).role = fb::Role::Mlp;
  b.AddCodebookTensor("c", DType::kF16, {2, 3, 8}, spec(4, {b1, b1}, 6, 8, true)).role = fb::Role::Mlp;
  b.AddCodebookTensor("d", DType::kF32, {3, 5}, spec(2, {b2}, 3, 5, false)).role = fb::Role::Head;
  b.AddQuantizedTensor("s", DType::kF32, {4, 8}, test::Gaussian(32, 5), 4, 0);
  b.AddAsset("tok", std::vector<uint8_t>(17, 't'));
  return b.Build();
}

// With banks: parts and roles (banks included) sum to the file size; every section has exactly one owner —
// "bank:N" with part "bank" for bank sections, the tensor with "scales", "indicesM", "residual_positions"
// or "residual_values" for codebook parts — of the matching kind; roles.banks is every bank's bytes.
TEST(Report, BanksAreAccountedFor) {
  for (uint32_t alignment : {0u, 32u}) {
    SCOPED_TRACE("alignment " + std::to_string(alignment));
    const std::vector<uint8_t> file = BankReportFile(alignment);
    const Json j = Inspect(file);
    ASSERT_FALSE(j.is_null());
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
    ASSERT_TRUE(d->Verify().ok());
    const Container& c = d->container();
    EXPECT_EQ(Sum(j["parts"]), file.size());
    EXPECT_EQ(Sum(j["roles"]), file.size());
    ASSERT_TRUE(j["roles"].contains("banks"));
    uint64_t bank_bytes = 0;
    for (uint32_t i = 0; i < 4; ++i) bank_bytes += c.section(c.manifest().banks()->Get(i)->data()).stored_size();
    EXPECT_EQ(j["roles"]["banks"].get<uint64_t>(), bank_bytes);
    ASSERT_EQ(j["banks"].size(), 4u);
    ASSERT_EQ(j["sections"].size(), c.section_count());
    std::map<std::string, std::string> kind_of_part = {{"scales", "scales"},
                                                       {"codes", "codes"},
                                                       {"data", "tensor_data"},
                                                       {"asset", "asset"},
                                                       {"bank", "bank"},
                                                       {"indices0", "indices"},
                                                       {"indices1", "indices"},
                                                       {"residual_positions", "residual_positions"},
                                                       {"residual_values", "residual_values"}};
    std::set<std::string> owners_and_parts;
    for (uint32_t i = 0; i < c.section_count(); ++i) {
      const Json& s = j["sections"][i];
      EXPECT_NE(s["owner"], "?") << "section " << i;
      ASSERT_TRUE(kind_of_part.count(s["part"].get<std::string>())) << s["part"];
      EXPECT_EQ(s["kind"], kind_of_part[s["part"].get<std::string>()]) << "section " << i;
      EXPECT_TRUE(owners_and_parts.insert(s["owner"].get<std::string>() + "/" + s["part"].get<std::string>()).second);
    }
    for (uint32_t i = 0; i < 4; ++i) {
      const uint32_t sec = c.manifest().banks()->Get(i)->data();
      EXPECT_EQ(j["sections"][sec]["owner"], "bank:" + std::to_string(i));
      EXPECT_EQ(j["sections"][sec]["part"], "bank");
      EXPECT_EQ(j["banks"][i]["index"].get<uint32_t>(), i);
      EXPECT_EQ(j["banks"][i]["stored_bytes"].get<uint64_t>(), c.section(sec).stored_size());
    }
    for (const char* op : {"a/scales", "a/indices0", "b/indices1", "b/residual_positions", "b/residual_values",
                           "c/indices0", "c/indices1", "d/indices0", "s/codes", "asset:tok/asset"})
      EXPECT_TRUE(owners_and_parts.count(op)) << op;
    // Tensor stored bytes are their own sections only (banks excluded), and the codebook params are listed.
    for (const Json& t : j["tensors"]) EXPECT_EQ(Sum(t["parts"]), t["stored_bytes"].get<uint64_t>()) << t["name"];
    const Json& b = j["tensors"][1];
    EXPECT_EQ(b["representation"], "codebook");
    EXPECT_EQ(b["params"]["banks"], Json::array({0, 1}));
    EXPECT_EQ(b["params"]["k"], Json::array({16, 300}));
    EXPECT_EQ(b["params"]["dim"], 4);
    EXPECT_EQ(b["params"]["residuals"], 2);
    EXPECT_EQ(j["banks"][1]["entry_dtype"], "F32");
    EXPECT_EQ(j["banks"][1]["k"], 300);
  }
}

// bank_share: each bank's stored bytes split over the tensors using it in proportion to the index symbols
// they draw from it. Summed over the tensors using a bank it gives that bank's bytes (1e-6 relative); the
// symbols per bank and the per-tensor shares match a computation from the manifest.
TEST(Report, BankShareSplitsEachBank) {
  const std::vector<uint8_t> file = BankReportFile(0);
  const Json j = Inspect(file);
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
  const Container& c = d->container();
  const auto& banks = *c.manifest().banks();
  // symbols[t][b]: index symbols tensor t draws from bank b.
  const uint32_t nt = d->tensor_count();
  std::vector<std::vector<double>> symbols(nt, std::vector<double>(banks.size(), 0.0));
  std::vector<double> per_bank(banks.size(), 0.0);
  for (uint32_t t = 0; t < nt; ++t) {
    const fb::Tensor& tensor = *c.manifest().tensors()->Get(t);
    const fb::CodebookRep* r = tensor.rep_as_CodebookRep();
    if (!r) continue;
    const std::vector<uint64_t> shape = ShapeOf(tensor);
    const uint64_t cols = shape.back(), rows = test::Numel(shape) / cols;
    for (uint32_t b : *r->banks()) {
      symbols[t][b] += static_cast<double>(rows * ((cols + r->dim() - 1) / r->dim()));
      per_bank[b] += static_cast<double>(rows * ((cols + r->dim() - 1) / r->dim()));
    }
  }
  for (uint32_t b = 0; b < banks.size(); ++b)
    EXPECT_DOUBLE_EQ(j["banks"][b]["symbols"].get<double>(), per_bank[b]) << "bank " << b;
  EXPECT_EQ(per_bank[3], 0.0);  // unused
  // The expected per-tensor share, and each bank's bytes as the sum of its users' parts of it.
  double total_share = 0, used_bank_bytes = 0;
  for (uint32_t b = 0; b < banks.size(); ++b) {
    const double stored = static_cast<double>(c.section(banks.Get(b)->data()).stored_size());
    if (per_bank[b] == 0) continue;
    used_bank_bytes += stored;
    double split = 0;
    for (uint32_t t = 0; t < nt; ++t) split += stored * symbols[t][b] / per_bank[b];
    EXPECT_NEAR(split, stored, 1e-6 * stored) << "bank " << b;
  }
  for (uint32_t t = 0; t < nt; ++t) {
    double expect = 0;
    for (uint32_t b = 0; b < banks.size(); ++b)
      if (per_bank[b] > 0)
        expect += static_cast<double>(c.section(banks.Get(b)->data()).stored_size()) * symbols[t][b] / per_bank[b];
    const double share = j["tensors"][t]["bank_share"].get<double>();
    EXPECT_NEAR(share, expect, 1e-6 * std::max(1.0, expect)) << j["tensors"][t]["name"];
    total_share += share;
  }
  // Over all tensors: exactly the bytes of the banks in use (the unused bank is nobody's share).
  EXPECT_NEAR(total_share, used_bank_bytes, 1e-6 * used_bank_bytes);
  // "d" is bank 2's only user: its share is all of bank 2. The scalar tensor has none.
  EXPECT_NEAR(j["tensors"][3]["bank_share"].get<double>(),
              static_cast<double>(c.section(banks.Get(2)->data()).stored_size()), 1e-6);
  EXPECT_EQ(j["tensors"][4]["bank_share"].get<double>(), 0.0);
  // "a" and "b" both use bank 0: their shares of it are in the ratio of their symbols (16 : 18).
  const double b0 = static_cast<double>(c.section(banks.Get(0)->data()).stored_size());
  EXPECT_NEAR(j["tensors"][0]["bank_share"].get<double>(), b0 * 16 / 34, 1e-9 * b0);
  // The text report renders and names every tensor.
  const std::string text = InspectText(j);
  for (const Json& t : j["tensors"]) EXPECT_NE(text.find("  " + t["name"].get<std::string>()), std::string::npos);
}

// The CLI writes the report entry by entry (so a file of a million tensors never becomes one JSON tree):
// what it writes is exactly the report, as JSON and as text, for files with and without banks, assets,
// budget, non-UTF-8 names, and for an empty file.
TEST(Report, StreamedReportIsTheReport) {
  test::FileBuilder odd;
  odd.AddRawTensor("w\xff\x1b", DType::kU8, {2}, std::vector<uint8_t>{1, 2});
  odd.AddAsset("t\xfe", std::vector<uint8_t>{3});
  odd.manifest().encoder = "e\xff";
  for (const std::vector<uint8_t>& file :
       {ReportFile(0, false), ReportFile(64, true), BankReportFile(0), odd.Build(), test::FileBuilder().Build()}) {
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
    const InspectReport report(d->container());
    const Json j = report.ToJson();
    std::string json, text;
    report.WriteJson([&](std::string_view s) { json += s; });
    report.WriteText([&](std::string_view s) { text += s; });
    EXPECT_EQ(json, DumpJson(j, 2) + "\n");
    EXPECT_EQ(text, InspectText(j));
    EXPECT_EQ(j, InspectJson(d->container()));
  }
}

}  // namespace
}  // namespace sdc
