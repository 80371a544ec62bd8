// Coverage promise of spec §1: every byte of a valid file is checked (header fields, manifest hash, section
// hashes, zero padding, nothing after the last section). So every single-byte change and every truncation
// of a small artifact must make Decoder::Open or Verify() fail — all of them, not most.
#include <gtest/gtest.h>

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

bool Accepted(std::vector<uint8_t> file) {
  std::unique_ptr<Decoder> d;
  if (!Decoder::Open(std::move(file), DecodeLimits(), &d).ok()) return false;
  return d->Verify().ok();
}

void SweepSingleByteChanges(const std::vector<uint8_t>& file) {
  ASSERT_TRUE(Accepted(file));
  std::vector<std::string> survivors;
  for (size_t i = 0; i < file.size(); ++i)
    for (uint8_t mask : {0x01, 0xff}) {
      std::vector<uint8_t> f = file;
      f[i] ^= mask;
      if (Accepted(std::move(f))) survivors.push_back(std::to_string(i) + "^" + std::to_string(mask));
    }
  std::string list;
  for (size_t k = 0; k < survivors.size() && k < 20; ++k) list += survivors[k] + " ";
  EXPECT_TRUE(survivors.empty()) << survivors.size() << " of " << 2 * file.size()
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

// Every xor-0x01 and xor-0xFF change of every byte of a compressed artifact is rejected.
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

}  // namespace
}  // namespace sdc
