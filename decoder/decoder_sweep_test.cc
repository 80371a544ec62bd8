// Coverage promise of spec §1: every byte of a valid file is checked (header fields, manifest hash, section
// hashes, zero padding, nothing after the last section). So every single-byte change and every truncation
// of a small artifact must make Decoder::Open or Verify() fail — all of them, not most.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

// One scalar tensor, one raw tensor and one asset: a few KB. `aligned` adds zero padding between sections
// (manifest stored raw); otherwise the manifest and the sections are zstd-compressed.
std::vector<uint8_t> SmallArtifact(bool aligned) {
  test::FileBuilder b;
  const fb::Codec codec = aligned ? fb::Codec::Raw : fb::Codec::Zstd;
  b.SetAlignment(aligned ? 32 : 0);
  b.SetManifestZstd(!aligned);
  b.AddQuantizedTensor("layers.0.attention.wq.weight", DType::kF16, {15, 40}, test::Gaussian(600, 5), 4, 16, codec);
  std::vector<uint8_t> norm(64 * 4);
  for (size_t i = 0; i < norm.size(); ++i) norm[i] = static_cast<uint8_t>(i % 4 == 3 ? 0x3f : i % 7);
  b.AddRawTensor("norm.weight", DType::kF32, {64}, norm, DType::kF32, codec);
  std::string tok;
  for (int i = 0; i < 40; ++i) tok += "{\"token\": " + std::to_string(i) + "}";
  b.AddAsset("tokenizer.json", std::vector<uint8_t>(tok.begin(), tok.end()), codec);
  return b.Build();
}

// The newest representation: a bank shared by two codebook tensors, a second bank, a codebook tensor with
// 2 codebooks and a sparse residual, index streams coded rans8 and rans16 (a k > 256 bank), a scalar tensor
// with rANS-coded codes, and a raw tensor. `aligned` adds zero padding (manifest raw); otherwise the
// manifest is zstd-compressed and the banks zstd-coded.
std::vector<uint8_t> CodebookArtifact(bool aligned) {
  test::FileBuilder b;
  b.SetAlignment(aligned ? 32 : 0);
  b.SetManifestZstd(!aligned);
  const fb::Codec bank_codec = aligned ? fb::Codec::Raw : fb::Codec::Zstd;
  const uint32_t shared = b.AddBankValues(test::Gaussian(16 * 4, 21), 16, 4, DType::kF16, bank_codec);
  const uint32_t second = b.AddBankValues(test::Gaussian(8 * 4, 22), 8, 4, DType::kF32, bank_codec);
  const uint32_t wide = b.AddBankValues(test::Gaussian(260 * 2, 23), 260, 2, DType::kF16, fb::Codec::Rans16);
  auto indices = [](uint64_t n, uint32_t k, bool two_bytes, uint64_t seed) {
    std::vector<uint8_t> v = test::RandomBytes(n * (two_bytes ? 2 : 1), seed);
    for (uint64_t i = 0; i < n; ++i) {
      if (two_bytes) {
        const uint32_t x = (v[2 * i] | v[2 * i + 1] << 8) % k;
        v[2 * i] = static_cast<uint8_t>(x), v[2 * i + 1] = static_cast<uint8_t>(x >> 8);
      } else {
        v[i] = static_cast<uint8_t>(v[i] % k);
      }
    }
    return v;
  };
  test::CodebookSpec cb;  // [6, 18]: 5 sub-vectors a row, the last one short
  cb.dim = 4;
  cb.banks = {shared, second};
  cb.coefficients = {1.0f, 0.375f};
  cb.group_size = 8;
  cb.scales = test::FloatsAs(DType::kF16, test::Gaussian(6 * 3, 24, 0.05));
  cb.indices = {indices(30, 16, false, 25), indices(30, 8, false, 26)};
  cb.index_codecs = {fb::Codec::Rans8, fb::Codec::Rans8};
  cb.residual = true;
  cb.residual_count = 4;
  cb.positions = test::Leb128Gaps({3, 4, 50, 107});
  cb.values = {0x11, 0xf0, 0x7f, 0x81};
  cb.step = 0.002f;
  cb.positions_codec = fb::Codec::Raw;
  cb.values_codec = fb::Codec::Raw;
  b.AddCodebookTensor("layers.0.attention.wq.weight", DType::kBF16, {6, 18}, cb);
  test::CodebookSpec cb2;  // shares bank `shared`
  cb2.dim = 4;
  cb2.banks = {shared};
  cb2.coefficients = {0.5f};
  cb2.scale_dtype = DType::kF32;
  cb2.scales = test::FloatsAs(DType::kF32, test::Gaussian(4, 27, 0.05));
  cb2.indices = {indices(8, 16, false, 28)};
  b.AddCodebookTensor("layers.0.attention.wk.weight", DType::kF32, {4, 8}, cb2);
  test::CodebookSpec cb3;  // u16 indices, rans16
  cb3.dim = 2;
  cb3.banks = {wide};
  cb3.coefficients = {1.0f};
  cb3.scales = test::FloatsAs(DType::kF16, test::Gaussian(3, 29, 0.05));
  cb3.indices = {indices(15, 260, true, 30)};
  cb3.index_codecs = {fb::Codec::Rans16};
  b.AddCodebookTensor("layers.0.feed_forward.w1.weight", DType::kF16, {3, 10}, cb3);
  b.AddQuantizedTensor("layers.0.feed_forward.w2.weight", DType::kF32, {8, 16}, test::Gaussian(128, 31), 4, 8,
                       fb::Codec::Rans8);
  b.AddRawTensor("norm.weight", DType::kF32, {8}, test::FloatsAs(DType::kF32, test::Gaussian(8, 32)));
  return b.Build();
}

bool Accepted(std::vector<uint8_t> file) {
  std::unique_ptr<Decoder> d;
  if (!Decoder::Open(std::move(file), DecodeLimits(), &d).ok()) return false;
  return d->Verify().ok();
}

void SweepSingleByteChanges(const std::vector<uint8_t>& file) {
  ASSERT_TRUE(Accepted(file));
  std::vector<std::string> survivors;
  // Every other value of every byte: 255 variants a byte. Sanitizer builds, which are here for memory
  // errors (the Release run already proves detection of every value), try each single-bit flip and 0xFF.
#ifdef SDC_SANITIZED
  const std::vector<int> masks = {1, 2, 4, 8, 16, 32, 64, 128, 255};
#else
  std::vector<int> masks(255);
  for (int m = 1; m < 256; ++m) masks[m - 1] = m;
#endif
  for (size_t i = 0; i < file.size(); ++i)
    for (int mask : masks) {
      std::vector<uint8_t> f = file;
      f[i] ^= static_cast<uint8_t>(mask);
      if (Accepted(std::move(f))) survivors.push_back(std::to_string(i) + "^" + std::to_string(mask));
    }
  std::string list;
  for (size_t k = 0; k < survivors.size() && k < 20; ++k) list += survivors[k] + " ";
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " of " << masks.size() * file.size()
                                 << " single-byte changes were accepted: " << list;
}

void SweepTruncations(const std::vector<uint8_t>& file) {
  std::vector<size_t> survivors;
  for (size_t n = 0; n < file.size(); ++n)
    if (Accepted(std::vector<uint8_t>(file.begin(), file.begin() + n))) survivors.push_back(n);
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " truncations were accepted, the first at "
                                 << (survivors.empty() ? 0 : survivors[0]);
}

// The artifacts are small (the sweep decodes each variant) and contain what the sweep must cover.
TEST(Sweep, ArtifactsAreSmallAndComplete) {
  for (bool aligned : {false, true}) {
    const std::vector<uint8_t> file = SmallArtifact(aligned);
    EXPECT_LT(file.size(), 8192u);
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
    EXPECT_EQ(d->tensor_count(), 2u);
    EXPECT_EQ(d->asset_count(), 1u);
    EXPECT_EQ(d->container().padding_bytes() > 0, aligned);
    EXPECT_EQ(d->container().header().manifest_codec == ManifestCodec::kZstd, !aligned);
  }
}

// Every change of every byte (all 255 other values) of a compressed artifact is rejected.
TEST(Sweep, EverySingleByteChangeFailsCompressed) { SweepSingleByteChanges(SmallArtifact(false)); }

// The same for an aligned artifact with a raw manifest, raw sections and zero padding.
TEST(Sweep, EverySingleByteChangeFailsAligned) { SweepSingleByteChanges(SmallArtifact(true)); }

// Every proper prefix of either artifact is rejected.
TEST(Sweep, EveryTruncationFails) {
  SweepTruncations(SmallArtifact(false));
  SweepTruncations(SmallArtifact(true));
}

// Appending any byte to either artifact is rejected (nothing may follow the last section).
TEST(Sweep, EveryAppendedByteFails) {
  for (bool aligned : {false, true}) {
    const std::vector<uint8_t> file = SmallArtifact(aligned);
    for (int v : {0, 1, 0xff}) {
      std::vector<uint8_t> f = file;
      f.push_back(static_cast<uint8_t>(v));
      EXPECT_FALSE(Accepted(f)) << "appended " << v;
    }
  }
}

// The codebook artifacts are small and hold what the sweep must cover: banks (one shared by two tensors),
// 2 codebooks with a residual, rans8 and rans16 sections, a scalar tensor.
TEST(Sweep, CodebookArtifactsAreSmallAndComplete) {
  for (bool aligned : {false, true}) {
    const std::vector<uint8_t> file = CodebookArtifact(aligned);
    EXPECT_LT(file.size(), 4096u);
    ASSERT_TRUE(Accepted(file));
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
    const Container& c = d->container();
    EXPECT_EQ(d->tensor_count(), 5u);
    EXPECT_EQ(c.manifest().banks()->size(), 3u);
    EXPECT_EQ(c.padding_bytes() > 0, aligned);
    std::set<fb::Codec> codecs;
    std::set<fb::SectionKind> kinds;
    for (uint32_t i = 0; i < c.section_count(); ++i)
      codecs.insert(c.section(i).codec()), kinds.insert(c.section(i).kind());
    EXPECT_TRUE(codecs.count(fb::Codec::Rans8));
    EXPECT_TRUE(codecs.count(fb::Codec::Rans16));
    for (fb::SectionKind k : {fb::SectionKind::Bank, fb::SectionKind::Indices, fb::SectionKind::ResidualPositions,
                              fb::SectionKind::ResidualValues, fb::SectionKind::Scales, fb::SectionKind::Codes})
      EXPECT_TRUE(kinds.count(k)) << static_cast<int>(k);
    const fb::CodebookRep* r = c.manifest().tensors()->Get(0)->rep_as_CodebookRep();
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->banks()->size(), 2u);
    EXPECT_NE(r->residual(), nullptr);
  }
}

// Every change of every byte (all 255 other values) of either codebook artifact is rejected.
TEST(Sweep, EverySingleByteChangeFailsCodebook) {
  SweepSingleByteChanges(CodebookArtifact(false));
  SweepSingleByteChanges(CodebookArtifact(true));
}

// Every proper prefix, and every appended byte, of either codebook artifact is rejected.
TEST(Sweep, EveryTruncationFailsCodebook) {
  for (bool aligned : {false, true}) {
    const std::vector<uint8_t> file = CodebookArtifact(aligned);
    SweepTruncations(file);
    for (int v : {0, 1, 0xff}) {
      std::vector<uint8_t> f = file;
      f.push_back(static_cast<uint8_t>(v));
      EXPECT_FALSE(Accepted(f)) << "appended " << v;
    }
  }
}

}  // namespace
}  // namespace sdc
