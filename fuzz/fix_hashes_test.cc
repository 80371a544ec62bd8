// fuzz/fix_hashes.h: after any change to a file's bytes, FixHashes makes every hash match again, so the
// change is judged by the rules behind the hashes (which is what the fuzzers' mutators rely on).
#include "fuzz/fix_hashes.h"

#include <gtest/gtest.h>

#include "decoder/decoder.h"
#include "format/checksum.h"
#include "format/header.h"
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

// Byte edits of a raw manifest (offsets moved, tables made to overlap): FixHashes always leaves a header hash
// that matches, and the sanitizer build checks that it never touches memory outside the file and manifest.
TEST(FixHashes, SurvivesManifestEdits) {
  const std::vector<uint8_t> base = SmallFile(false);
  FileHeader h;
  ASSERT_TRUE(ParseHeader(base, &h).ok());
  const uint64_t begin = kHeaderSize, size = h.manifest_stored_size;
  uint64_t state = 12345;
  auto next = [&state] { return state = state * 6364136223846793005ull + 1442695040888963407ull, state >> 33; };
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> file = base;
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits; ++e) {
      const uint64_t at = begin + next() % (size - 3);
      const uint32_t value = static_cast<uint32_t>(next() % 4 == 0 ? next() : next() % 256);
      for (int k = 0; k < 4; ++k) file[at + k] = static_cast<uint8_t>(value >> (8 * k));
    }
    fuzz::FixHashes(&file);
    FileHeader after;
    if (!ParseHeader(file, &after).ok()) continue;
    const std::span<const uint8_t> f(file);
    ASSERT_LE(kHeaderSize + after.manifest_stored_size, file.size()) << round;
    EXPECT_EQ(after.xxh64, HeaderHash(f.first(kHeaderHashedPrefix), f.subspan(kHeaderSize, after.manifest_stored_size)))
        << "round " << round;
  }
}

}  // namespace
}  // namespace sdc
