// format/zstd_codec.h: sections decode to exactly their declared size (spec §5); anything else is corrupt.
#include "format/zstd_codec.h"

#include "encoder/enc_zstd.h"
#include "format/limits.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace sdc {
namespace {

std::vector<uint8_t> Text(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>("abcabcabd"[i % 9]);
  return v;
}

// Compress/decompress round trip at several levels, and compression is deterministic.
TEST(Zstd, RoundTrip) {
  for (int level : {1, 3, 19}) {
    const std::vector<uint8_t> raw = Text(10000);
    const std::vector<uint8_t> z = ZstdCompress(raw, level);
    ASSERT_FALSE(z.empty());
    EXPECT_LT(z.size(), raw.size());
    EXPECT_EQ(ZstdCompress(raw, level), z);
    std::vector<uint8_t> out;
    ASSERT_TRUE(ZstdDecompressExact(z, raw.size(), &out).ok());
    EXPECT_EQ(out, raw);
  }
}

// Declared sizes one byte off either way, trailing garbage, a cut frame, and garbage are all corrupt; empty
// input decodes to zero bytes only.
TEST(Zstd, ExactSizeAndMalformedInput) {
  const std::vector<uint8_t> raw = Text(5000);
  const std::vector<uint8_t> z = ZstdCompress(raw, 3);
  std::vector<uint8_t> out;
  EXPECT_EQ(ZstdDecompressExact(z, raw.size() + 1, &out).code(), StatusCode::kCorrupt);
  EXPECT_EQ(ZstdDecompressExact(z, raw.size() - 1, &out).code(), StatusCode::kCorrupt);
  EXPECT_EQ(
      ZstdDecompressExact(test::Concat({z, std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 8}}), raw.size(), &out).code(),
      StatusCode::kCorrupt);
  EXPECT_EQ(ZstdDecompressExact(std::span<const uint8_t>(z).first(z.size() - 1), raw.size(), &out).code(),
            StatusCode::kCorrupt);
  EXPECT_EQ(ZstdDecompressExact(test::RandomBytes(100, 3), 100, &out).code(), StatusCode::kCorrupt);
  EXPECT_TRUE(ZstdDecompressExact({}, 0, &out).ok());
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(ZstdDecompressExact({}, 1, &out).code(), StatusCode::kCorrupt);
}

// A frame by hand (RFC 8878 §3.1.1): magic, Frame_Header_Descriptor, the header fields after it, then one
// last Raw_Block holding `content`.
std::vector<uint8_t> Frame(uint8_t descriptor, std::vector<uint8_t> fields, const std::string& content) {
  std::vector<uint8_t> f = {0x28, 0xB5, 0x2F, 0xFD, descriptor};
  for (uint8_t b : fields) f.push_back(b);
  const uint32_t block = 1 | static_cast<uint32_t>(content.size()) << 3;  // Last_Block, Raw_Block, Block_Size
  for (int i = 0; i < 3; ++i) f.push_back(static_cast<uint8_t>(block >> (8 * i)));
  for (char c : content) f.push_back(static_cast<uint8_t>(c));
  return f;
}

Status Decode(const std::vector<uint8_t>& stored, uint64_t raw_size, std::vector<uint8_t>* out = nullptr) {
  std::vector<uint8_t> scratch;
  return ZstdDecompressExact(stored, raw_size, out ? out : &scratch);
}

// spec §5: windows up to 2^27 bytes (a single-segment frame's window is its content size), standard and
// skippable frames only, no dictionary. libzstd alone accepts legacy frames, and any window when the frame
// fits its output at once (issue 14, findings 4 and 5).
TEST(Zstd, FrameRules) {
  std::vector<uint8_t> out;
  ASSERT_TRUE(Decode(Frame(0x00, {0x88}, "abc"), 3, &out).ok()) << "window 2^27 (exponent 17)";
  EXPECT_EQ(out, (std::vector<uint8_t>{'a', 'b', 'c'}));
  const Status big = Decode(Frame(0x00, {0x89}, "abc"), 3);  // 2^27 + 2^24
  EXPECT_EQ(big.code(), StatusCode::kCorrupt);
  EXPECT_NE(big.message().find("exceeds 2^27"), std::string::npos) << big.ToString();
  EXPECT_EQ(Decode(Frame(0x00, {0x90}, "abc"), 3).code(), StatusCode::kCorrupt) << "window 2^28";
  // Single segment: the window is the declared content size (8-byte field: 2^28).
  EXPECT_EQ(Decode(Frame(0xE0, {0, 0, 0, 0x10, 0, 0, 0, 0}, "abc"), 3).code(), StatusCode::kCorrupt);
  ASSERT_TRUE(Decode(Frame(0x20, {3}, "abc"), 3).ok()) << "single segment, content size 3";
  const Status dict = Decode(Frame(0x01, {0x88, 7}, "abc"), 3);
  EXPECT_EQ(dict.code(), StatusCode::kCorrupt);
  EXPECT_NE(dict.message().find("dictionary"), std::string::npos) << dict.ToString();
  std::vector<uint8_t> legacy = Frame(0x00, {0x88}, "abc");
  legacy[0] = 0x27;  // 0xFD2FB527: a v0.7 frame
  const Status old = Decode(legacy, 3);
  EXPECT_EQ(old.code(), StatusCode::kCorrupt);
  EXPECT_NE(old.message().find("legacy"), std::string::npos) << old.ToString();
  const std::vector<uint8_t> z = ZstdCompress(Text(3000), 3);
  std::vector<uint8_t> v07 = z;
  v07[0] = 0x27;
  EXPECT_EQ(Decode(v07, 3000).code(), StatusCode::kCorrupt);
  // A skippable frame, then a frame: only the frame's content counts.
  const std::vector<uint8_t> skip = {0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 'x', 'y', 'z'};
  ASSERT_TRUE(Decode(test::Concat({skip, Frame(0x20, {3}, "abc")}), 3, &out).ok());
  EXPECT_EQ(out, (std::vector<uint8_t>{'a', 'b', 'c'}));
  EXPECT_EQ(Decode(test::Concat({skip, std::vector<uint8_t>{0x28, 0xB5}}), 0).code(), StatusCode::kCorrupt);
  std::vector<uint8_t> short_skip = skip;
  short_skip[4] = 4;  // declares one byte more than there is
  EXPECT_EQ(Decode(short_skip, 0).code(), StatusCode::kCorrupt);
}

// Memory before proof (spec §10): a frame of a few bytes declaring a terabyte is refused without the
// terabyte ever being allocated (that allocation would throw here); a claim the stored bytes vouch for is
// decoded directly, a larger one only after a first pass proves it, as the real zero-filled tensor below.
TEST(Zstd, DeclaredSizeIsAllocatedOnlyOnceProved) {
  const Status bomb = Decode(Frame(0x20, {3}, "abc"), uint64_t{1} << 40);
  EXPECT_EQ(bomb.code(), StatusCode::kCorrupt);
  EXPECT_NE(bomb.message().find("declared 1099511627776"), std::string::npos) << bomb.ToString();
  const std::vector<uint8_t> zeros(64 << 20, 0);
  const std::vector<uint8_t> z = ZstdCompress(zeros, 3);
  ASSERT_FALSE(SizeIsVouched(z.size(), zeros.size())) << z.size();
  std::vector<uint8_t> out;
  ASSERT_TRUE(Decode(z, zeros.size(), &out).ok());
  EXPECT_EQ(out, zeros);
  EXPECT_EQ(Decode(z, zeros.size() + 1).code(), StatusCode::kCorrupt);
  EXPECT_EQ(Decode(z, zeros.size() - 1).code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace sdc
