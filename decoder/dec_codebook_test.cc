// decoder/dec_codebook.cc + decoder.cc: reconstruction of codebook tensors (spec §8.4) from files made by
// the test-only builder (never the encoder). Every decoded tensor must equal, byte for byte, the reference
// rule of tests/test_util.h (RefDequantizeCodebook: the spec's loop written out element by element), over
// M = 1..3 (and 8), dim 1, 3, 8, 16, rows whose length is not a multiple of dim, per-row and per-group
// scales, F16/F32 bank entries and scales, u8 and u16 index streams, sparse residuals, every output dtype
// and every section codec (raw, zstd, rans8, rans16, rans8x4, rans16x4).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "format/endian.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using test::CodebookSpec;
using test::FileBuilder;
using Bytes = std::vector<uint8_t>;

std::vector<DecodedTensor> DecodeAllOrDie(const Bytes& file) {
  std::unique_ptr<Decoder> d;
  Status s = Decoder::Open(file, DecodeLimits(), &d);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  std::vector<DecodedTensor> tensors;
  std::vector<DecodedAsset> assets;
  s = d->DecodeAll(&tensors, &assets);
  EXPECT_TRUE(s.ok()) << s.ToString();
  s = d->Verify();
  EXPECT_TRUE(s.ok()) << s.ToString();
  return tensors;
}

Bytes Scales(DType scale_dtype, const std::vector<float>& v) { return test::FloatsAs(scale_dtype, v); }

// n indices below k, as u8 or u16 little-endian, from a fixed pattern that reaches 0 and k - 1.
Bytes Indices(uint64_t n, uint32_t k, bool wide, uint64_t seed) {
  Bytes out(n * (wide ? 2 : 1));
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t v = i == 0 ? k - 1 : i == 1 ? 0 : static_cast<uint32_t>(rng() % k);
    if (wide)
      StoreLE16(out.data() + 2 * i, static_cast<uint16_t>(v));
    else
      out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

// Bank values with a spread of magnitudes: Gaussian, a few F16 subnormals, a large value, zeros of both signs.
std::vector<float> BankValues(size_t n, uint64_t seed) {
  std::vector<float> v = test::Gaussian(n, seed, 1.5);
  if (n > 8) {
    v[1] = 3.0e-6f;  // F16 subnormal
    v[2] = -0.0f;
    v[3] = 0.0f;
    v[5] = 2000.0f;   // overflows F16 once scaled
    v[7] = -6.1e-5f;  // near the smallest F16 normal
  }
  return v;
}

// One file holding a codebook tensor for every combination of dim (1, 3, 8), M (1, 2, 3), group size (per
// row, one sub-vector, two sub-vectors) and output dtype, cols = 10 (not a multiple of 3 or 8). Each dim has
// a pool of banks: F16 k=16, F32 k=16, F16 k=300 (forces u16 indices), F32 k=7; alternate tensors use the
// wide bank, both scale dtypes, negative coefficients and scales, residuals (first gap > 0, consecutive
// positions, the last element), a bank used twice by one tensor, and every codec.
TEST(CodebookDecode, MatchesReferenceRule) {
  FileBuilder b;
  struct Pool {
    uint32_t f16_16, f32_16, f16_300, f32_7;
  };
  std::vector<std::pair<uint32_t, Pool>> pools;
  const fb::Codec bank_codecs[] = {fb::Codec::Raw,    fb::Codec::Zstd,    fb::Codec::Rans8,
                                   fb::Codec::Rans16, fb::Codec::Rans8x4, fb::Codec::Rans16x4};
  int seed = 0;
  for (uint32_t dim : {1u, 3u, 8u}) {
    Pool p;
    auto bank = [&](uint32_t k, DType entry_dtype) {
      ++seed;
      return b.AddBankValues(BankValues(k * dim, seed), k, dim, entry_dtype, bank_codecs[seed % 6]);
    };
    p.f16_16 = bank(16, DType::kF16);
    p.f32_16 = bank(16, DType::kF32);
    p.f16_300 = bank(300, DType::kF16);
    p.f32_7 = bank(7, DType::kF32);
    pools.push_back({dim, p});
  }
  struct Made {
    std::string name;
    DType dtype;
    std::vector<uint64_t> shape;
    CodebookSpec spec;
    bool wide;
  };
  std::vector<Made> made;
  int n = 0;
  for (const auto& [dim, pool] : pools)
    for (int m_count = 1; m_count <= 3; ++m_count)
      for (uint32_t group : {0u, dim, 2 * dim})
        for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
          ++n;
          const bool wide = n % 2 == 0;
          const std::vector<uint64_t> shape =
              n % 3 == 0 ? std::vector<uint64_t>{2, 2, 10} : std::vector<uint64_t>{3, 10};
          const uint64_t cols = 10, rows = test::Numel(shape) / cols;
          const uint64_t vpr = (cols + dim - 1) / dim, gpr = group == 0 ? 1 : (cols + group - 1) / group;
          CodebookSpec s;
          s.dim = dim;
          const uint32_t narrow[] = {pool.f16_16, pool.f32_16, pool.f32_7};
          for (int m = 0; m < m_count; ++m) s.banks.push_back(narrow[(n + m) % 3]);
          if (m_count == 3 && n % 4 == 1) s.banks[2] = s.banks[0];  // one bank used by two streams
          if (wide) s.banks[(n / 2) % m_count] = pool.f16_300;
          const std::vector<float> alpha = test::Gaussian(m_count, 500 + n);
          s.coefficients = alpha;
          s.scale_dtype = n % 5 < 3 ? DType::kF16 : DType::kF32;
          s.group_size = group;
          std::vector<float> sv = test::Gaussian(rows * gpr, 900 + n, 0.3);  // negative scales are allowed
          s.scales = Scales(s.scale_dtype, sv);
          s.scales_codec = n % 2 ? fb::Codec::Zstd : fb::Codec::Raw;
          for (int m = 0; m < m_count; ++m) {
            const uint32_t k = s.banks[m] == pool.f16_300 ? 300 : s.banks[m] == pool.f32_7 ? 7 : 16;
            s.indices.push_back(Indices(rows * vpr, k, wide, 1000 * n + m));
            const fb::Codec codecs[] = {fb::Codec::Raw, fb::Codec::Rans8, fb::Codec::Zstd,
                                        wide ? fb::Codec::Rans16 : fb::Codec::Rans8,
                                        wide ? fb::Codec::Rans16x4 : fb::Codec::Rans8x4};
            s.index_codecs.push_back(codecs[(n + m) % 5]);
          }
          const uint64_t numel = rows * cols;
          if (n % 3 != 0) {
            // First gap 2, three consecutive positions, a long gap, and the last element.
            const std::vector<uint64_t> positions = {2, 3, 4, 5, 17, numel - 1};
            s.residual = true;
            s.residual_count = positions.size();
            s.positions = test::Leb128Gaps(positions);
            s.values = {0x80, 0x7f, 0x01, 0xff, 0x00, 0x32};  // -128, 127, 1, -1, 0, 50
            s.step = n % 2 ? 0.013f : -0.25f;
            s.positions_codec = n % 2 ? fb::Codec::Rans8 : fb::Codec::Raw;
            s.values_codec = n % 4 == 1 ? fb::Codec::Rans8 : fb::Codec::Raw;
          }
          const std::string name = "cb.d" + std::to_string(dim) + ".m" + std::to_string(m_count) + ".g" +
                                   std::to_string(group) + "." + DTypeName(dtype);
          b.AddCodebookTensor(name, dtype, shape, s);
          made.push_back({name, dtype, shape, std::move(s), wide});
        }
  // A scalar tensor between them: representations mix in one file.
  b.AddQuantizedTensor("scalar", DType::kF32, {4, 12}, test::Gaussian(48, 3), 4, 0);
  const Bytes file = b.Build();
  const std::vector<DecodedTensor> out = DecodeAllOrDie(file);
  ASSERT_EQ(out.size(), made.size() + 1);
  bool any_wide = false;
  for (size_t i = 0; i < made.size(); ++i) {
    SCOPED_TRACE(made[i].name);
    EXPECT_EQ(out[i].name, made[i].name);
    EXPECT_EQ(out[i].dtype, made[i].dtype);
    EXPECT_EQ(out[i].shape, made[i].shape);
    const Bytes expect = b.ReferenceCodebook(made[i].dtype, made[i].shape, made[i].spec);
    ASSERT_FALSE(expect.empty());
    EXPECT_EQ(out[i].data, expect);
    any_wide = any_wide || made[i].wide;
  }
  EXPECT_TRUE(any_wide);
  // The file really uses both rANS codecs for index streams.
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
  std::set<int> codecs;
  for (uint32_t i = 0; i < d->container().section_count(); ++i)
    if (d->container().section(i).kind() == fb::SectionKind::Indices)
      codecs.insert(static_cast<int>(d->container().section(i).codec()));
  EXPECT_EQ(codecs.size(), 6u);  // every codec
}

// The reference rule itself, checked on hand-computed values: sub-vectors pick bank entries by their own
// index per stream, coefficients weigh the streams, the scale multiplies the sum, and a residual adds
// step * v to the listed elements (the first gap counted from 0, later ones from the previous position + 1).
TEST(CodebookDecode, HandComputedValues) {
  FileBuilder b;
  // dim 2, k 3: e0 = (1, 0), e1 = (3, -0.0), e2 = (5, 0.25).
  const std::vector<float> entries = {1.0f, 0.0f, 3.0f, -0.0f, 5.0f, 0.25f};
  const uint32_t bank = b.AddBankValues(entries, 3, 2, DType::kF32);
  CodebookSpec s;
  s.dim = 2;
  s.banks = {bank, bank};
  s.coefficients = {1.0f, -1.0f};
  s.scale_dtype = DType::kF32;
  s.scales = Scales(DType::kF32, {2.0f});
  // One row of 6 columns = 3 sub-vectors: e0 - e0, e1 - e0, e2 - e1.
  s.indices = {{0, 1, 2}, {0, 0, 1}};
  s.residual = true;
  s.residual_count = 2;
  s.positions = test::Leb128Gaps({1, 2});  // gaps 1, 0
  s.values = {0x02, 0xfe};                 // 2, -2
  s.step = 0.75f;
  b.AddCodebookTensor("t", DType::kF32, {1, 6}, s);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  auto at = [&](int i) { return test::Le32(out[0].data.data() + 4 * i); };
  EXPECT_EQ(at(0), test::Bits(0.0f));  // (1 - 1) * 2
  EXPECT_EQ(at(1), test::Bits(1.5f));  // ((+0 + 0) + -0) * 2 = +0, + 0.75 * 2
  EXPECT_EQ(at(2), test::Bits(2.5f));  // (3 - 1) * 2 = 4, + 0.75 * -2
  EXPECT_EQ(at(3), test::Bits(0.0f));  // (+0 + -0) + -0 = +0
  EXPECT_EQ(at(4), test::Bits(4.0f));  // (5 - 3) * 2
  EXPECT_EQ(at(5), test::Bits(0.5f));  // (0.25 - -0) * 2
}

// -0.0 handling: a single codebook whose term is -0.0 gives +0.0 (acc starts at +0.0), so a positive scale
// gives +0.0 and a negative one -0.0.
TEST(CodebookDecode, AccumulatorStartsAtPositiveZero) {
  FileBuilder b;
  const uint32_t bank = b.AddBankValues(std::vector<float>{0.0f, 1.0f}, 2, 1, DType::kF16);
  CodebookSpec s;
  s.dim = 1;
  s.banks = {bank};
  s.coefficients = {-1.0f};
  s.scale_dtype = DType::kF32;
  s.scales = Scales(DType::kF32, {1.0f, -1.0f});
  s.indices = {{0, 0}};
  b.AddCodebookTensor("t", DType::kF32, {2, 1}, s);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(test::Le32(out[0].data.data()), 0x00000000u);      // (+0 + -0) * 1 = +0
  EXPECT_EQ(test::Le32(out[0].data.data() + 4), 0x80000000u);  // (+0 + -0) * -1 = -0
}

// No FMA: with alpha_1 = B_1 = 1 + 2^-12, the product alpha_1 * B_1 = 1 + 2^-11 + 2^-24 rounds (a tie, to
// even) to 1 + 2^-11 before it is added to acc = -1, giving 2^-11; a fused multiply-add would keep the
// 2^-24. The decoded bits are those of the two-rounding evaluation.
TEST(CodebookDecode, ProductsAndSumsRoundSeparately) {
  FileBuilder b;
  const float e = 1.0f + 0x1p-12f;
  const uint32_t bank = b.AddBankValues(std::vector<float>{e, -1.0f}, 2, 1, DType::kF32);
  CodebookSpec s;
  s.dim = 1;
  s.banks = {bank, bank};
  s.coefficients = {1.0f, e};
  s.scale_dtype = DType::kF32;
  s.scales = Scales(DType::kF32, {1.0f});
  s.indices = {{1}, {0}};  // acc = 0 + 1 * -1 = -1, then acc = -1 + e * e
  b.AddCodebookTensor("t", DType::kF32, {1, 1}, s);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(test::Le32(out[0].data.data()), test::Bits(0x1p-11f));
  EXPECT_NE(0x1p-11, static_cast<double>(e) * e - 1.0);  // the fused value differs
}

// Rounding to the output dtype happens once, after the residual: values past the F16 range become inf,
// tiny ones F16 subnormals or zero, BF16 rounds to nearest even; each checked against hand-derived bits and
// the reference rule.
TEST(CodebookDecode, OutputRoundingEdges) {
  const std::vector<float> entries = {1.0e5f, 1.0e-7f, 1.0f + 0x1p-8f, 65504.0f, 65519.0f, 65520.0f, 3.0f, 0.0f};
  const std::vector<float> edge_scales = {1.0f, -1.0f};
  for (DType dtype : {DType::kF16, DType::kBF16, DType::kF32}) {
    FileBuilder b;
    const uint32_t bank = b.AddBankValues(entries, 8, 1, DType::kF32);
    CodebookSpec s;
    s.dim = 1, s.banks = {bank}, s.coefficients = {1.0f};
    s.scale_dtype = DType::kF32;
    s.scales = Scales(DType::kF32, edge_scales);
    s.indices = {{0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7}};
    // The residual pushes 65504 (row 0, col 3) past the F16 range only before rounding: 65504 + 15 = 65519
    // still rounds to 65504, 65504 + 16 = 65520 rounds to inf.
    s.residual = true;
    s.residual_count = 2;
    s.positions = test::Leb128Gaps({3, 7});
    s.values = {16, 0x81};  // 16, -127
    s.step = 1.0f;
    b.AddCodebookTensor("t", dtype, {2, 8}, s);
    const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].data, b.ReferenceCodebook(dtype, {2, 8}, s)) << DTypeName(dtype);
    if (dtype == DType::kF16) {
      auto at = [&](int i) { return test::Le16(out[0].data.data() + 2 * i); };
      EXPECT_EQ(at(0), 0x7c00u);                        // 1e5 -> +inf
      EXPECT_EQ(at(8), 0xfc00u);                        // -1e5 -> -inf
      EXPECT_EQ(at(1), 0x0002u);                        // 1e-7 -> subnormal 2 * 2^-24 (1e-7 / 2^-24 = 1.68)
      EXPECT_EQ(at(3), 0x7c00u);                        // 65504 + 16 = 65520 -> inf
      EXPECT_EQ(at(4), 0x7bffu);                        // 65519 -> 65504
      EXPECT_EQ(at(5), 0x7c00u);                        // 65520 -> inf
      EXPECT_EQ(at(7), test::RefFloatToHalf(-127.0f));  // 0 + 1 * -127
      EXPECT_EQ(at(15), 0x8000u);                       // (+0 + 1 * 0) * -1 = -0
    }
    if (dtype == DType::kBF16) {
      EXPECT_EQ(test::Le16(out[0].data.data() + 2 * 2), 0x3f80u);  // 1 + 2^-8 ties to even: 1.0
    }
  }
}

// Index width follows the largest bank of the tensor: k = 256 keeps u8 (index 255 reachable), k = 257
// makes every stream of the tensor u16 (index 256 reachable), k = 65536 reaches index 65535; dim 16 is the
// largest. Degenerate shapes (0-d, 1-d, [0, 10], [3, 0]) decode to the right number of elements.
TEST(CodebookDecode, IndexWidthsAndShapes) {
  FileBuilder b;
  const uint32_t k256 = b.AddBankValues(BankValues(256 * 2, 1), 256, 2, DType::kF16, fb::Codec::Zstd);
  const uint32_t k257 = b.AddBankValues(BankValues(257 * 2, 2), 257, 2, DType::kF32);
  const uint32_t small = b.AddBankValues(BankValues(5 * 2, 3), 5, 2, DType::kF16);
  const uint32_t k65536 = b.AddBankValues(BankValues(65536, 4), 65536, 1, DType::kF16, fb::Codec::Zstd);
  const uint32_t d16 = b.AddBankValues(BankValues(16 * 4, 5), 4, 16, DType::kF32);
  struct Case {
    std::string name;
    std::vector<uint64_t> shape;
    CodebookSpec spec;
    DType dtype;
  };
  std::vector<Case> cases;
  auto add = [&](const std::string& name, std::vector<uint64_t> shape, CodebookSpec s, DType dtype) {
    b.AddCodebookTensor(name, dtype, shape, s);
    cases.push_back({name, shape, std::move(s), dtype});
  };
  {
    CodebookSpec s;  // u8: the largest index of a k = 256 bank
    s.dim = 2, s.banks = {k256, small}, s.coefficients = {0.5f, 2.0f};
    s.scales = Scales(DType::kF16, {1.0f, 0.5f});
    s.indices = {{255, 0, 128, 7, 255, 1}, {4, 0, 3, 2, 1, 0}};
    s.index_codecs = {fb::Codec::Rans8, fb::Codec::Raw};
    add("k256", {2, 5}, s, DType::kF32);
  }
  {
    CodebookSpec s;  // u16 for both streams because one bank has 257 entries
    s.dim = 2, s.banks = {small, k257}, s.coefficients = {1.0f, -0.25f};
    s.scale_dtype = DType::kF32;
    s.scales = Scales(DType::kF32, {3.0f});
    s.indices = {{4, 0, 0, 0, 1, 0}, {0, 1, 0, 0, 0, 1}};
    s.index_codecs = {fb::Codec::Rans16, fb::Codec::Rans16};
    add("k257", {1, 5}, s, DType::kBF16);
  }
  {
    CodebookSpec s;  // k = 65536, dim 1
    s.dim = 1, s.banks = {k65536}, s.coefficients = {1.0f};
    s.scales = Scales(DType::kF16, {1.0f, 2.0f});
    s.indices = {Bytes(16)};
    const uint16_t idx[] = {65535, 0, 32768, 1, 65534, 7, 300, 65535};
    for (int i = 0; i < 8; ++i) StoreLE16(s.indices[0].data() + 2 * i, idx[i]);
    add("k65536", {2, 4}, s, DType::kF16);
  }
  {
    CodebookSpec s;  // dim 16 over 20 columns: the second sub-vector uses 4 of its 16 components
    s.dim = 16, s.banks = {d16}, s.coefficients = {1.0f}, s.group_size = 16;
    s.scales = Scales(DType::kF16, {1.0f, -2.0f, 0.5f, 4.0f});
    s.indices = {{3, 0, 1, 2}};
    add("dim16", {2, 20}, s, DType::kF32);
  }
  for (const std::vector<uint64_t>& shape : std::vector<std::vector<uint64_t>>{{}, {7}, {0, 10}, {3, 0}, {0}}) {
    const uint64_t cols = shape.empty() ? 1 : shape.back();
    const uint64_t rows = cols == 0 ? (shape.size() > 1 ? shape[0] : 1) : test::Numel(shape) / cols;
    const uint64_t vpr = (cols + 1) / 2, gpr = cols == 0 ? 0 : 1;
    CodebookSpec s;
    s.dim = 2, s.banks = {small}, s.coefficients = {1.5f};
    s.scales = Scales(DType::kF16, std::vector<float>(rows * gpr, 0.75f));
    s.indices = {Indices(rows * vpr, 5, false, 9)};
    std::string name = "shape";
    for (uint64_t d : shape) name += "_" + std::to_string(d);
    if (test::Numel(shape) > 0) {
      s.residual = true;
      s.residual_count = 1;
      s.positions = test::Leb128Gaps({test::Numel(shape) - 1});
      s.values = {0x05};
      s.step = 0.125f;
    }
    add(name, shape, s, DType::kF32);
  }
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(out[i].shape, cases[i].shape);
    EXPECT_EQ(out[i].data.size(), test::Numel(cases[i].shape) * DTypeSize(cases[i].dtype));
    EXPECT_EQ(out[i].data, b.ReferenceCodebook(cases[i].dtype, cases[i].shape, cases[i].spec));
  }
}

// M = 8 (the largest) with banks of both entry dtypes, and a residual at every element.
TEST(CodebookDecode, EightCodebooksAndDenseResidual) {
  FileBuilder b;
  std::vector<uint32_t> banks;
  for (int m = 0; m < 8; ++m)
    banks.push_back(b.AddBankValues(BankValues(12 * 4, 40 + m), 12, 4, m % 2 ? DType::kF32 : DType::kF16));
  CodebookSpec s;
  s.dim = 4, s.banks = banks, s.coefficients = test::Gaussian(8, 77);
  s.group_size = 8;
  const uint64_t rows = 5, cols = 13, vpr = 4, gpr = 2, numel = rows * cols;
  s.scales = Scales(DType::kF16, test::Gaussian(rows * gpr, 78, 0.5));
  for (int m = 0; m < 8; ++m) s.indices.push_back(Indices(rows * vpr, 12, false, 80 + m));
  std::vector<uint64_t> every(numel);
  for (uint64_t i = 0; i < numel; ++i) every[i] = i;
  s.residual = true;
  s.residual_count = numel;
  s.positions = test::Leb128Gaps(every);  // numel zero gaps
  s.values = test::RandomBytes(numel, 81);
  s.step = 1.0f / 64;
  b.AddCodebookTensor("m8", DType::kBF16, {rows, cols}, s);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].data, b.ReferenceCodebook(DType::kBF16, {rows, cols}, s));
}

// Residual positions with multi-byte varints: gaps of 127, 128, 16383, 16384 and a 10-byte varint whose value
// still fits (zero bytes with continuation bits: redundant but valid encodings of small gaps).
TEST(CodebookDecode, ResidualVarints) {
  FileBuilder b;
  const uint32_t bank = b.AddBankValues(BankValues(16, 6), 16, 1, DType::kF16);
  const uint64_t rows = 2, cols = 20000, numel = rows * cols;
  CodebookSpec s;
  s.dim = 1, s.banks = {bank}, s.coefficients = {1.0f};
  s.scales = Scales(DType::kF16, {1.0f, 1.0f});
  s.indices = {Indices(numel, 16, false, 7)};
  std::vector<uint64_t> positions = {127, 127 + 1 + 128, 127 + 1 + 128 + 1 + 16383,
                                     127 + 1 + 128 + 1 + 16383 + 1 + 16384};
  s.positions = test::Leb128Gaps(positions);
  // A final gap of 1 written in 10 bytes: 0x81 0x80 ... 0x80 0x00.
  positions.push_back(positions.back() + 2);
  s.positions.push_back(0x81);
  for (int i = 0; i < 8; ++i) s.positions.push_back(0x80);
  s.positions.push_back(0x00);
  s.residual = true;
  s.residual_count = positions.size();
  s.values = {1, 2, 3, 4, 5};
  s.step = 0.5f;
  b.AddCodebookTensor("t", DType::kF32, {rows, cols}, s);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  const Bytes expect = b.ReferenceCodebook(DType::kF32, {rows, cols}, s);
  EXPECT_EQ(out[0].data, expect);
  // The corrections landed where the gaps say.
  CodebookSpec plain = s;
  plain.residual = false;
  const Bytes base = b.ReferenceCodebook(DType::kF32, {rows, cols}, plain);
  std::vector<uint64_t> changed;
  for (uint64_t i = 0; i < numel; ++i)
    if (std::memcmp(base.data() + 4 * i, out[0].data.data() + 4 * i, 4) != 0) changed.push_back(i);
  EXPECT_EQ(changed, positions);
}

// Decoding a codebook tensor large enough for the parallel loop gives the same bytes with 1 and 2 threads.
TEST(CodebookDecode, ThreadCountIndependent) {
  FileBuilder b;
  const uint32_t bank0 = b.AddBankValues(BankValues(300 * 4, 8), 300, 4, DType::kF16);
  const uint32_t bank1 = b.AddBankValues(BankValues(64 * 4, 9), 64, 4, DType::kF32);
  const uint64_t rows = 300, cols = 301, vpr = 76;
  CodebookSpec s;
  s.dim = 4, s.banks = {bank0, bank1}, s.coefficients = {0.75f, 0.25f}, s.group_size = 64;
  s.scales = Scales(DType::kF16, test::Gaussian(rows * 5, 10, 0.1));
  s.indices = {Indices(rows * vpr, 300, true, 11), Indices(rows * vpr, 64, true, 12)};
  s.index_codecs = {fb::Codec::Rans16, fb::Codec::Rans16};
  s.residual = true;
  s.residual_count = 3;
  s.positions = test::Leb128Gaps({0, 45000, rows * cols - 1});
  s.values = {0x10, 0x90, 0x7f};
  s.step = 0.01f;
  b.AddCodebookTensor("t", DType::kF16, {rows, cols}, s);
  const Bytes file = b.Build();
  const int saved = test::MaxThreads();
  test::SetThreads(1);
  const std::vector<DecodedTensor> one = DecodeAllOrDie(file);
  test::SetThreads(2);
  const std::vector<DecodedTensor> two = DecodeAllOrDie(file);
  test::SetThreads(saved);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(one[0].data, two[0].data);
  EXPECT_EQ(one[0].data, b.ReferenceCodebook(DType::kF16, {rows, cols}, s));
}

// A bank no tensor uses is valid; Verify still decodes it (spec §9: "every bank (entries finite)"), so a NaN
// there fails Verify while every tensor still decodes. A NaN in a used bank fails DecodeTensor itself.
TEST(CodebookDecode, NonFiniteBankEntries) {
  for (bool used : {false, true}) {
    SCOPED_TRACE(used ? "used bank" : "unused bank");
    FileBuilder b;
    const uint32_t good = b.AddBankValues(BankValues(8 * 2, 1), 8, 2, DType::kF16);
    const uint32_t other = b.AddBankValues(BankValues(8 * 2, 2), 8, 2, DType::kF32);
    CodebookSpec s;
    s.dim = 2, s.banks = {good}, s.coefficients = {1.0f};
    s.scales = Scales(DType::kF16, {1.0f});
    s.indices = {{0, 1, 2}};
    if (used) s.banks.push_back(other), s.coefficients.push_back(0.5f), s.indices.push_back({3, 4, 5});
    b.AddCodebookTensor("t", DType::kF32, {1, 6}, s);
    Bytes file = test::Rewrite(b.Build(), [&](test::FileParts& p) {
      const uint32_t sec = p.manifest.banks[other]->data;
      Bytes bytes(test::SectionBytes(p, sec).begin(), test::SectionBytes(p, sec).end());
      StoreLE32(bytes.data() + 4 * 5, 0x7fc00000u);  // entry 5 = NaN
      test::ReplaceSectionBytes(p, sec, bytes);
    });
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
    DecodedTensor t;
    const Status decode = d->DecodeTensor(0, &t);
    const Status verify = d->Verify();
    EXPECT_EQ(verify.code(), StatusCode::kCorrupt) << verify.ToString();
    EXPECT_NE(verify.message().find("bank 1: bank entry 5 is not finite"), std::string::npos) << verify.ToString();
    if (used) {
      EXPECT_EQ(decode.code(), StatusCode::kCorrupt) << decode.ToString();
      EXPECT_NE(decode.message().find("tensor 't': bank 1: bank entry 5 is not finite"), std::string::npos)
          << decode.ToString();
    } else {
      EXPECT_TRUE(decode.ok()) << decode.ToString();
    }
  }
}

}  // namespace
}  // namespace sdc
