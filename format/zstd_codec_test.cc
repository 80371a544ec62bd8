// format/zstd_codec.h: sections decode to exactly their declared size (spec §5); anything else is corrupt.
#include "format/zstd_codec.h"

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

}  // namespace
}  // namespace sdc
