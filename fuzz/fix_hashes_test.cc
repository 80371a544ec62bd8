// fuzz/fix_hashes.h: after any change to a file's bytes, FixHashes makes every hash match again, so the
// change is judged by the rules behind the hashes (which is what the fuzzers' mutators rely on).
#include "fuzz/fix_hashes.h"

#include <gtest/gtest.h>

#include "decoder/decoder.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

Status OpenAndVerify(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  SDC_RETURN_IF_ERROR(Decoder::Open(file, DecodeLimits(), &d));
  return d->Verify();
}

std::vector<uint8_t> SmallFile(bool zstd_manifest) {
  test::FileBuilder b;
  b.AddQuantizedTensor("w", DType::kF32, {4, 16}, test::Gaussian(64, 1), 4, 0, fb::Codec::Zstd);
  b.AddRawTensor("b", DType::kF32, {8}, test::FloatsAs(DType::kF32, test::Gaussian(8, 2)));
  b.AddAsset("tok", std::vector<uint8_t>(40, 'x'));
  b.SetManifestZstd(zstd_manifest);
  return b.Build();
}

// A changed payload byte (a raw tensor's, so the section still decodes) fails its section hash; FixHashes
// recomputes it and the tensor hash, and the file verifies: with a raw and with a zstd manifest.
TEST(FixHashes, PayloadChangesVerifyAfterwards) {
  for (bool zstd : {false, true}) {
    std::vector<uint8_t> file = SmallFile(zstd);
    ASSERT_TRUE(OpenAndVerify(file).ok());
    file[file.size() - 41] ^= 0x40;  // in tensor b's data, just before the asset's 40 bytes
    EXPECT_EQ(OpenAndVerify(file).code(), StatusCode::kChecksumMismatch);
    fuzz::FixHashes(&file);
    const Status s = OpenAndVerify(file);
    EXPECT_TRUE(s.ok()) << zstd << ": " << s.ToString();
  }
}

// A manifest edited through Unpack/Pack (here a section's raw size) reaches the rule it breaks, not the
// header hash; a file that is not an .sdc at all is left as it is.
TEST(FixHashes, ManifestEditsReachTheRuleTheyBreak) {
  fb::ManifestT m;
  std::vector<uint8_t> area;
  bool zstd = false;
  ASSERT_TRUE(fuzz::Unpack(SmallFile(true), &m, &area, &zstd));
  EXPECT_TRUE(zstd);
  m.sections.back()->raw_size += 1;
  std::vector<uint8_t> file = fuzz::Pack(m, area, zstd);
  fuzz::FixHashes(&file);
  const Status s = OpenAndVerify(file);
  EXPECT_EQ(s.code(), StatusCode::kCorrupt) << s.ToString();
  EXPECT_NE(s.message().find("raw codec with differing stored and raw sizes"), std::string::npos) << s.ToString();

  std::vector<uint8_t> junk = test::RandomBytes(100, 4);
  const std::vector<uint8_t> before = junk;
  fuzz::FixHashes(&junk);
  EXPECT_EQ(junk, before);
}

}  // namespace
}  // namespace sdc
