// encoder/: round trips through Encode() and the Decoder. Every tensor the decoder returns is checked
// three ways: its XXH64 equals the manifest's, it equals an independent reconstruction from the file's own
// sections (spec §8 written out in tests/test_util.h, zstd decoded with libzstd directly), and lossless
// tensors equal the input bytes. Scalar error is bounded and shrinks as bits grow.
#include "encoder/encoder.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cmath>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "report/report.h"
#include "tests/encoder_test_util.h"
#include "tests/test_util.h"

namespace sdc {

// Readable parameter values in test names and ctest listings ("F16", not "1-byte object <01>").
static void PrintTo(DType t, std::ostream* os) { *os << DTypeName(t); }

namespace {

using test::GaussianTensor;
using test::Owned;
using test::SectionRaw;
using test::View;

EncodeOptions Options(int bits = 6, uint32_t group = 0) {
  EncodeOptions o;
  o.bits = bits;
  o.group_size = group;
  o.min_quant_numel = 0;  // quantize every float tensor of rank >= 2
  return o;
}

EncodeResult EncodeOk(const std::vector<Owned>& ts, const EncodeOptions& o) {
  EncodeResult r;
  Status s = Encode(View(ts), o, &r);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return r;
}

// What tensor i must decode to, re-derived from its sections with the reference rules.
std::vector<uint8_t> Rederive(const Container& c, const fb::Tensor& t) {
  const DType dtype = static_cast<DType>(t.dtype());
  const std::vector<uint64_t> shape = ShapeOf(t);
  const uint64_t cols = shape.empty() ? 1 : shape.back();
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  if (t.rep_type() == fb::Representation::RawRep) {
    const fb::RawRep* r = t.rep_as_RawRep();
    const DType sd = static_cast<DType>(r->stored_dtype());
    std::vector<uint8_t> raw = SectionRaw(c, r->data());
    if (sd == dtype) return raw;
    const size_t n = raw.size() / DTypeSize(sd);
    std::vector<uint8_t> out(n * DTypeSize(dtype));
    for (size_t i = 0; i < n; ++i)
      test::RefStoreAs(test::RefLoad(sd, raw.data(), i), dtype, out.data() + i * DTypeSize(dtype));
    return out;
  }
  EXPECT_EQ(t.rep_type(), fb::Representation::ScalarRep);
  const fb::ScalarRep* r = t.rep_as_ScalarRep();
  return test::RefDequantizeScalar(rows, cols, r->bits(), r->group_size(), static_cast<DType>(r->scale_dtype()),
                                   SectionRaw(c, r->scales()), SectionRaw(c, r->codes()), dtype);
}

struct Decoded {
  std::vector<DecodedTensor> tensors;
  std::vector<DecodedAsset> assets;
};

// Decodes the file and cross-checks every tensor against its manifest hash and the independent
// reconstruction from its sections.
Decoded DecodeChecked(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  Status s = Decoder::Open(file, DecodeLimits(), &d);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  Decoded out;
  s = d->DecodeAll(&out.tensors, &out.assets);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(d->Verify().ok());
  const Container& c = d->container();
  for (uint32_t i = 0; i < out.tensors.size(); ++i) {
    const fb::Tensor& t = *c.manifest().tensors()->Get(i);
    EXPECT_EQ(test::Hash(out.tensors[i].data), t.xxh64()) << t.name()->str();
    EXPECT_EQ(out.tensors[i].data, Rederive(c, t)) << t.name()->str();
  }
  return out;
}

const fb::Tensor& ManifestTensor(const std::vector<uint8_t>& file, std::unique_ptr<Decoder>* keep, uint32_t i) {
  EXPECT_TRUE(Decoder::Open(file, DecodeLimits(), keep).ok());
  return *(*keep)->container().manifest().tensors()->Get(i);
}

double Snr(const std::vector<float>& w, DType dtype, const std::vector<uint8_t>& decoded) {
  double signal = 0, noise = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = static_cast<double>(w[i]) - test::RefLoad(dtype, decoded.data(), i);
    signal += static_cast<double>(w[i]) * w[i];
    noise += d * d;
  }
  return noise == 0 ? INFINITY : 10 * std::log10(signal / noise);
}

const std::vector<std::vector<uint64_t>> kShapes = {{}, {5}, {0}, {3, 0}, {0, 5}, {4, 100}, {2, 3, 40}, {2, 2, 3, 10}};

// Integer, bool, F64 and F8 tensors of every shape kind are stored raw and come back byte for byte, even
// with the scalar method asked for.
TEST(EncoderRoundTrip, NonFloatDtypesAreLossless) {
  std::vector<Owned> ts;
  for (DType dt : {DType::kF64, DType::kI8, DType::kU8, DType::kI16, DType::kU16, DType::kI32, DType::kU32, DType::kI64,
                   DType::kU64, DType::kBool, DType::kF8E4M3, DType::kF8E5M2})
    for (size_t s = 0; s < kShapes.size(); ++s)
      ts.push_back({std::string(DTypeName(dt)) + "." + std::to_string(s), dt, kShapes[s],
                    test::RandomBytes(test::Numel(kShapes[s]) * DTypeSize(dt), ts.size())});
  const EncodeResult r = EncodeOk(ts, Options(3));
  const Decoded d = DecodeChecked(r.file);
  ASSERT_EQ(d.tensors.size(), ts.size());
  std::unique_ptr<Decoder> keep;
  for (size_t i = 0; i < ts.size(); ++i) {
    EXPECT_EQ(d.tensors[i].name, ts[i].name);
    EXPECT_EQ(d.tensors[i].dtype, ts[i].dtype);
    EXPECT_EQ(d.tensors[i].shape, ts[i].shape);
    EXPECT_EQ(d.tensors[i].data, ts[i].data) << ts[i].name;
    const fb::Tensor& t = ManifestTensor(r.file, &keep, i);
    EXPECT_EQ(t.rep_type(), fb::Representation::RawRep) << ts[i].name;
    EXPECT_EQ(static_cast<DType>(t.rep_as_RawRep()->stored_dtype()), ts[i].dtype);
    EXPECT_TRUE(std::isinf(t.snr_db()));
  }
}

// With the raw method, F32/F16/BF16 tensors holding any bit patterns (NaN payloads, infinities,
// subnormals) come back byte for byte.
TEST(EncoderRoundTrip, RawMethodIsExactForFloats) {
  std::vector<Owned> ts;
  for (DType dt : {DType::kF32, DType::kF16, DType::kBF16})
    for (size_t s = 0; s < kShapes.size(); ++s)
      ts.push_back({std::string(DTypeName(dt)) + "." + std::to_string(s), dt, kShapes[s],
                    test::RandomBytes(test::Numel(kShapes[s]) * DTypeSize(dt), 100 + ts.size())});
  EncodeOptions o = Options();
  o.method = Method::kRaw;
  const Decoded d = DecodeChecked(EncodeOk(ts, o).file);
  ASSERT_EQ(d.tensors.size(), ts.size());
  for (size_t i = 0; i < ts.size(); ++i) EXPECT_EQ(d.tensors[i].data, ts[i].data) << ts[i].name;
}

// A float matrix holding NaN or inf is never quantized: it is stored raw and comes back exactly.
TEST(EncoderRoundTrip, NonFiniteFloatTensorsStayLossless) {
  Owned t = GaussianTensor("w", DType::kF32, {8, 64}, 4);
  const float nan = std::nanf("");
  std::memcpy(t.data.data() + 40, &nan, 4);
  Owned u = GaussianTensor("u", DType::kBF16, {8, 64}, 5);
  u.data[11] = 0x7f, u.data[10] = 0x80;  // element 5 = +inf
  const EncodeResult r = EncodeOk({t, u}, Options(4));
  const Decoded d = DecodeChecked(r.file);
  ASSERT_EQ(d.tensors.size(), 2u);
  EXPECT_EQ(d.tensors[0].data, t.data);
  EXPECT_EQ(d.tensors[1].data, u.data);
  EXPECT_EQ(r.tensors[0].representation, "raw");
  EXPECT_EQ(r.tensors[1].representation, "raw");
}

// Scalar round trips for every float dtype, bits 2..8 and group sizes that do and do not divide the row
// (cols 100/40/10 with groups 0, 1, 7, 32, 128), over shapes of rank 0 to 4 and empty ones. Rank >= 2
// tensors are scalar with the requested bits and group; rank < 2 ones are raw (encoder policy).
class ScalarRoundTrip : public ::testing::TestWithParam<std::tuple<DType, uint32_t>> {};

TEST_P(ScalarRoundTrip, DecodesToTheRule) {
  const auto [dtype, group] = GetParam();
  std::vector<Owned> ts;
  for (size_t s = 0; s < kShapes.size(); ++s)
    ts.push_back(GaussianTensor("t" + std::to_string(s), dtype, kShapes[s], s, 0.05));
  for (int bits = 2; bits <= 8; ++bits) {
    SCOPED_TRACE("bits " + std::to_string(bits));
    const EncodeResult r = EncodeOk(ts, Options(bits, group));
    const Decoded d = DecodeChecked(r.file);
    ASSERT_EQ(d.tensors.size(), ts.size());
    std::unique_ptr<Decoder> keep;
    for (size_t i = 0; i < ts.size(); ++i) {
      EXPECT_EQ(d.tensors[i].shape, ts[i].shape);
      EXPECT_EQ(d.tensors[i].data.size(), ts[i].data.size());
      const fb::Tensor& t = ManifestTensor(r.file, &keep, i);
      if (ts[i].shape.size() < 2) {
        EXPECT_EQ(t.rep_type(), fb::Representation::RawRep) << ts[i].name;
        EXPECT_EQ(d.tensors[i].data, ts[i].data) << ts[i].name;
        continue;
      }
      ASSERT_EQ(t.rep_type(), fb::Representation::ScalarRep) << ts[i].name;
      EXPECT_EQ(t.rep_as_ScalarRep()->bits(), bits);
      EXPECT_EQ(t.rep_as_ScalarRep()->group_size(), group);
      EXPECT_EQ(r.tensors[i].bits, bits);
      EXPECT_EQ(r.tensors[i].representation, "scalar");
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DtypesAndGroups, ScalarRoundTrip,
                         ::testing::Combine(::testing::Values(DType::kF32, DType::kF16, DType::kBF16),
                                            ::testing::Values(0u, 1u, 7u, 32u, 128u)),
                         [](const auto& info) {
                           return std::string(DTypeName(std::get<0>(info.param))) + "_group" +
                                  std::to_string(std::get<1>(info.param));
                         });

// Scalar error on Gaussian weights: SNR never falls as bits rise from 2 to 8, exceeds 40 dB at 8 bits,
// grows by roughly 6 dB per bit in the middle of the range, and matches what the encoder reports.
TEST(EncoderQuality, SnrIsMonotoneInBits) {
  for (uint32_t group : {0u, 32u}) {
    const std::vector<float> w = test::Gaussian(64 * 256, 42, 0.02);
    const Owned t{"layers.0.feed_forward.w1.weight", DType::kF32, {64, 256}, test::FloatsAs(DType::kF32, w)};
    double previous = -INFINITY;
    std::vector<double> snr(9);
    for (int bits = 2; bits <= 8; ++bits) {
      const EncodeResult r = EncodeOk({t}, Options(bits, group));
      const Decoded d = DecodeChecked(r.file);
      ASSERT_EQ(d.tensors.size(), 1u);
      snr[bits] = Snr(w, DType::kF32, d.tensors[0].data);
      EXPECT_GE(snr[bits], previous) << "group " << group << " bits " << bits;
      EXPECT_NEAR(r.tensors[0].snr_db(), snr[bits], 1e-6) << "encoder-reported SNR";
      previous = snr[bits];
    }
    EXPECT_GT(snr[8], 40.0) << "group " << group;
    EXPECT_GT(snr[2], 5.0) << "group " << group;
    for (int bits = 4; bits <= 7; ++bits) EXPECT_GT(snr[bits + 1] - snr[bits], 4.5) << bits;
  }
}

// Per-group scales help: on rows whose magnitude varies along the row, groups of 32 beat one scale per row
// (the quiet part of each row is no longer quantized to zero).
TEST(EncoderQuality, GroupsHelpOnUnevenRows) {
  std::vector<float> w = test::Gaussian(32 * 256, 8, 0.01);
  for (size_t i = 0; i < w.size(); ++i)
    if ((i % 256) < 32) w[i] *= 50;  // a loud block at the start of every row
  const Owned t{"w", DType::kF32, {32, 256}, test::FloatsAs(DType::kF32, w)};
  const Decoded row = DecodeChecked(EncodeOk({t}, Options(4, 0)).file);
  const Decoded grouped = DecodeChecked(EncodeOk({t}, Options(4, 32)).file);
  ASSERT_EQ(row.tensors.size(), 1u);
  ASSERT_EQ(grouped.tensors.size(), 1u);
  EXPECT_GT(Snr(w, DType::kF32, grouped.tensors[0].data), Snr(w, DType::kF32, row.tensors[0].data) + 1);
}

// Raw casts: float tensors stored as F16 or BF16 decode to exactly widen(round(x)) in their own dtype; a
// cast to the tensor's own dtype is lossless; integer tensors are never cast.
TEST(EncoderRoundTrip, RawCast) {
  std::vector<Owned> ts = {GaussianTensor("f32", DType::kF32, {3, 50}, 1, 100.0),
                           GaussianTensor("f16", DType::kF16, {3, 50}, 2),
                           GaussianTensor("bf16", DType::kBF16, {3, 50}, 3),
                           {"i32", DType::kI32, {10}, test::RandomBytes(40, 4)},
                           GaussianTensor("scalar", DType::kF32, {}, 5)};
  for (DType cast : {DType::kF16, DType::kBF16}) {
    EncodeOptions o = Options();
    o.method = Method::kRaw;
    o.raw_cast = cast;
    const EncodeResult r = EncodeOk(ts, o);
    const Decoded d = DecodeChecked(r.file);
    ASSERT_EQ(d.tensors.size(), ts.size());
    std::unique_ptr<Decoder> keep;
    for (size_t i = 0; i < ts.size(); ++i) {
      const fb::Tensor& t = ManifestTensor(r.file, &keep, i);
      const DType dtype = ts[i].dtype;
      if (!IsLossyCodable(dtype) || dtype == cast) {
        EXPECT_EQ(d.tensors[i].data, ts[i].data) << ts[i].name;
        EXPECT_EQ(static_cast<DType>(t.rep_as_RawRep()->stored_dtype()), dtype);
        continue;
      }
      EXPECT_EQ(static_cast<DType>(t.rep_as_RawRep()->stored_dtype()), cast) << ts[i].name;
      EXPECT_EQ(r.tensors[i].representation, std::string("raw(") + DTypeName(cast) + ")");
      const size_t n = ts[i].data.size() / DTypeSize(dtype);
      std::vector<uint8_t> expect(ts[i].data.size()), narrow(4);
      for (size_t k = 0; k < n; ++k) {
        test::RefStoreAs(test::RefLoad(dtype, ts[i].data.data(), k), cast, narrow.data());
        test::RefStoreAs(test::RefLoad(cast, narrow.data(), 0), dtype, expect.data() + k * DTypeSize(dtype));
      }
      EXPECT_EQ(d.tensors[i].data, expect) << ts[i].name << " cast to " << DTypeName(cast);
    }
  }
}

// With the scalar method, the raw cast applies to the float tensors left raw (rank < 2 or small).
TEST(EncoderRoundTrip, RawCastAppliesToSmallTensorsUnderScalar) {
  EncodeOptions o = Options(5);
  o.raw_cast = DType::kF16;
  o.min_quant_numel = 100;
  const EncodeResult r =
      EncodeOk({GaussianTensor("norm.weight", DType::kF32, {64}, 1), GaussianTensor("small", DType::kF32, {4, 4}, 2),
                GaussianTensor("big", DType::kF32, {16, 16}, 3)},
               o);
  DecodeChecked(r.file);
  ASSERT_EQ(r.tensors.size(), 3u);
  EXPECT_EQ(r.tensors[0].representation, "raw(F16)");
  EXPECT_EQ(r.tensors[1].representation, "raw(F16)");
  EXPECT_EQ(r.tensors[2].representation, "scalar");
}

// alignment = 64: every section starts at an absolute file offset that is a multiple of 64, the manifest
// is stored raw, the gaps are zero, and the inspect report shows the same offsets.
TEST(EncoderRoundTrip, Alignment64) {
  EncodeOptions o = Options(4, 16);
  o.alignment = 64;
  o.assets = {{"tokenizer.json", std::vector<uint8_t>(333, 't')}};
  const EncodeResult r =
      EncodeOk({GaussianTensor("a", DType::kF32, {7, 33}, 1), GaussianTensor("b", DType::kF16, {5}, 2),
                GaussianTensor("c", DType::kBF16, {3, 3, 9}, 3)},
               o);
  DecodeChecked(r.file);
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(r.file, DecodeLimits(), &d).ok());
  const Container& c = d->container();
  EXPECT_EQ(c.header().manifest_codec, ManifestCodec::kRaw);
  EXPECT_EQ(c.manifest().alignment(), 64u);
  ASSERT_GT(c.section_count(), 0u);
  for (uint32_t i = 0; i < c.section_count(); ++i)
    EXPECT_EQ((c.data_start() + c.section(i).offset()) % 64, 0u) << "section " << i;
  const nlohmann::ordered_json j = InspectJson(c);
  for (const auto& s : j["sections"]) EXPECT_EQ(s["offset"].get<uint64_t>() % 64, 0u);
  uint64_t parts = 0;
  for (const auto& [k, v] : j["parts"].items()) parts += v.get<uint64_t>();
  EXPECT_EQ(parts, r.file.size());
}

// Assets are stored and returned byte for byte; the source metadata passes through; roles come from the
// name rule unless a glob override matches (then role_source is 1).
TEST(EncoderRoundTrip, AssetsMetadataAndRoles) {
  EncodeOptions o = Options();
  o.assets = {{"tokenizer.json", test::RandomBytes(1000, 1)}, {"empty", {}}};
  o.roles = {{"*.w2.*", Role::kHead}};
  const std::vector<Owned> ts = {GaussianTensor("layers.0.feed_forward.w1.weight", DType::kF32, {8, 8}, 1),
                                 GaussianTensor("layers.0.feed_forward.w2.weight", DType::kF32, {8, 8}, 2)};
  EncodeResult r;
  ASSERT_TRUE(Encode(View(ts, {{"format", "pt"}, {"k", "v"}}), o, &r).ok());
  const Decoded d = DecodeChecked(r.file);
  ASSERT_EQ(d.assets.size(), 2u);
  EXPECT_EQ(d.assets[0].name, "tokenizer.json");
  EXPECT_EQ(d.assets[0].data, o.assets[0].data);
  EXPECT_EQ(d.assets[1].name, "empty");
  EXPECT_TRUE(d.assets[1].data.empty());
  std::unique_ptr<Decoder> keep;
  const fb::Tensor& w1 = ManifestTensor(r.file, &keep, 0);
  EXPECT_EQ(w1.role(), fb::Role::Mlp);
  EXPECT_EQ(w1.role_source(), 0);
  const fb::Tensor& w2 = *keep->container().manifest().tensors()->Get(1);
  EXPECT_EQ(w2.role(), fb::Role::Head);
  EXPECT_EQ(w2.role_source(), 1);
  std::map<std::string, std::string> md;
  for (const fb::KeyValue* kv : *keep->container().manifest().metadata()) md[kv->key()->str()] = kv->value()->str();
  EXPECT_EQ(md, (std::map<std::string, std::string>{{"format", "pt"}, {"k", "v"}}));
}

// zstd level 0 never uses zstd; at other levels compressible sections are zstd; a section is only ever
// stored with an entropy codec (zstd, rANS) when that is strictly smaller than its raw bytes.
TEST(EncoderRoundTrip, ZstdLevelControlsSectionCodecs) {
  const std::vector<Owned> ts = {{"zeros", DType::kF32, {64, 64}, std::vector<uint8_t>(64 * 64 * 4, 0)},
                                 GaussianTensor("g", DType::kF32, {16, 64}, 3)};
  for (int level : {0, 3, 19}) {
    EncodeOptions o = Options(8);
    o.zstd_level = level;
    const EncodeResult r = EncodeOk(ts, o);
    DecodeChecked(r.file);
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(r.file, DecodeLimits(), &d).ok());
    bool any_zstd = false;
    for (uint32_t i = 0; i < d->container().section_count(); ++i) {
      const fb::Section& s = d->container().section(i);
      if (level == 0) {
        EXPECT_NE(s.codec(), fb::Codec::Zstd) << i;
      }
      if (s.codec() != fb::Codec::Raw) {
        EXPECT_LT(s.stored_size(), s.raw_size()) << i;
      }
      any_zstd = any_zstd || s.codec() == fb::Codec::Zstd;
    }
    EXPECT_EQ(any_zstd, level != 0) << level;
  }
}

// The encoder's per-tensor summary matches the file: stored bytes are the tensor's sections, numel and
// the policy (min_quant_numel) are honoured.
TEST(EncoderRoundTrip, SummaryMatchesTheFile) {
  EncodeOptions o = Options(6);
  o.min_quant_numel = 200;
  const std::vector<Owned> ts = {GaussianTensor("big", DType::kF32, {20, 20}, 1),
                                 GaussianTensor("small", DType::kF32, {10, 10}, 2)};
  const EncodeResult r = EncodeOk(ts, o);
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(r.file, DecodeLimits(), &d).ok());
  const nlohmann::ordered_json j = InspectJson(d->container());
  ASSERT_EQ(r.tensors.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.tensors[i].name, ts[i].name);
    EXPECT_EQ(r.tensors[i].numel, test::Numel(ts[i].shape));
    EXPECT_EQ(r.tensors[i].stored_bytes, j["tensors"][i]["stored_bytes"].get<uint64_t>());
  }
  EXPECT_EQ(r.tensors[0].representation, "scalar");
  EXPECT_EQ(r.tensors[1].representation, "raw");
  EXPECT_EQ(r.tensors[1].sse, 0.0);
}

// The progress callback is called once per tensor, in order.
TEST(EncoderRoundTrip, ProgressCallback) {
  EncodeOptions o = Options();
  std::vector<std::string> lines;
  o.progress = [&](const std::string& s) { lines.push_back(s); };
  EncodeOk({GaussianTensor("a", DType::kF32, {4, 4}, 1), GaussianTensor("b", DType::kF32, {4}, 2)}, o);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("a"), std::string::npos);
  EXPECT_NE(lines[1].find("[2/2] b"), std::string::npos);
}

// Impossible options are refused with kInvalidArgument before any work.
TEST(EncoderOptions, InvalidOptionsAreRejected) {
  const std::vector<Owned> ts = {GaussianTensor("a", DType::kF32, {4, 4}, 1)};
  auto expect_invalid = [&](const char* what, auto edit) {
    EncodeOptions o = Options();
    edit(o);
    EncodeResult r;
    EXPECT_EQ(Encode(View(ts), o, &r).code(), StatusCode::kInvalidArgument) << what;
  };
  expect_invalid("bits 1", [](EncodeOptions& o) { o.bits = 1; });
  expect_invalid("bits 9", [](EncodeOptions& o) { o.bits = 9; });
  expect_invalid("raw cast F32", [](EncodeOptions& o) { o.raw_cast = DType::kF32; });
  expect_invalid("zstd 23", [](EncodeOptions& o) { o.zstd_level = 23; });
  expect_invalid("zstd -1", [](EncodeOptions& o) { o.zstd_level = -1; });
  expect_invalid("reserve = budget", [](EncodeOptions& o) { o.budget = 1000, o.reserve = 1000; });
  expect_invalid("alignment 3", [](EncodeOptions& o) { o.alignment = 3; });
  expect_invalid("alignment 8192", [](EncodeOptions& o) { o.alignment = 8192; });
}

// Encode never writes a file its own decoder refuses: inputs the format cannot hold (names empty or over
// 4096 bytes, rank over 8, a leading dimension over the tensor limit, duplicate or empty asset names,
// duplicate tensor names) are refused with kInvalidArgument, or else the file must open. The tensor cases
// are all valid safetensors, so `sdcodec encode` meets them.
TEST(EncoderOptions, InputsTheFormatCannotHoldAreRefused) {
  const std::vector<uint8_t> data(16, 0);
  struct Case {
    const char* what;
    std::vector<Owned> tensors;
    std::vector<AssetInput> assets;
  };
  const std::vector<Case> cases = {
      {"empty tensor name", {{"", DType::kF32, {4}, data}}, {}},
      {"5000-byte tensor name", {{std::string(5000, 'n'), DType::kF32, {4}, data}}, {}},
      {"rank 9", {{"r9", DType::kU8, {1, 1, 1, 1, 1, 1, 1, 2, 8}, data}}, {}},
      {"shape [2^40, 0] (no elements)", {{"z", DType::kF32, {uint64_t{1} << 40, 0}, {}}}, {}},
      {"duplicate tensor names", {{"t", DType::kF32, {4}, data}, {"t", DType::kF32, {4}, data}}, {}},
      {"duplicate asset names", {{"t", DType::kF32, {4}, data}}, {{"a", {1}}, {"a", {2}}}},
      {"empty asset name", {{"t", DType::kF32, {4}, data}}, {{"", {1}}}},
  };
  for (const Case& c : cases) {
    EncodeOptions o;
    o.assets = c.assets;
    EncodeResult r;
    const Status s = Encode(View(c.tensors), o, &r);
    if (!s.ok()) {
      EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.what << ": " << s.ToString();
      continue;
    }
    std::unique_ptr<Decoder> d;
    const Status open = Decoder::Open(r.file, DecodeLimits(), &d);
    EXPECT_TRUE(open.ok()) << c.what << ": Encode succeeded but the file is refused: " << open.ToString();
  }
}

}  // namespace
}  // namespace sdc
