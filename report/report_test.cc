// report/: the inspect JSON of spec §13 accounts for every byte — parts, roles and sections each add up to
// the file size, every section has exactly one owner, and per-tensor numbers match the manifest.
#include "report/report.h"

#include <gtest/gtest.h>

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
  EXPECT_EQ(j["format_version"], "1.0");
  // The text report renders without throwing and names every tensor.
  const std::string text = InspectText(j);
  for (const Json& t : j["tensors"]) EXPECT_NE(text.find(t["name"].get<std::string>()), std::string::npos);
}

}  // namespace
}  // namespace sdc
