// format/printable.h and format/asset_names.h: how names that are arbitrary bytes are shown on a terminal
// and in JSON, and which asset names the format allows (spec §6, §10, §13).
#include "format/printable.h"

#include <gtest/gtest.h>

#include <string>

#include "format/asset_names.h"

namespace sdc {
namespace {

TEST(Printable, EscapesControlBytesAndNonUtf8AndNothingElse) {
  EXPECT_EQ(Printable("layers.0.attn.wq"), "layers.0.attn.wq");
  EXPECT_EQ(Printable("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5") << "valid UTF-8 is kept";
  EXPECT_EQ(Printable("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(Printable("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
  EXPECT_EQ(Printable("w\xff"), "w\\xff");
  EXPECT_EQ(Printable("\xc2\x9b"
                      "31m"),
            "\\xc2\\x9b31m")
      << "C1 controls (CSI) as well";
  EXPECT_EQ(Printable("\xc0\xaf"), "\\xc0\\xaf") << "an overlong '/'";
  EXPECT_EQ(Printable("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "a UTF-16 surrogate";
  EXPECT_EQ(Printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80") << "above U+10FFFF";
  EXPECT_EQ(Printable("\xe6\x97"), "\\xe6\\x97") << "a truncated sequence";
  EXPECT_EQ(Printable(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(Printable("a\\x1b"), "a\\\\x1b") << "a backslash is escaped: the output reads back unambiguously";
  EXPECT_EQ(Printable("a\\x1b\x1b", false), "a\\x1b\\x1b") << "without backslash escaping (a last pass)";
  EXPECT_TRUE(IsUtf8(Printable("\xff\xfe\x80\xc2")));
}

TEST(Printable, Utf8LossyAndHex) {
  EXPECT_TRUE(IsUtf8(""));
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9"));
  EXPECT_FALSE(IsUtf8("w\xff"));
  EXPECT_FALSE(IsUtf8("\xc0\x80"));
  EXPECT_EQ(Utf8Lossy("w\xff"
                      "a"),
            "w\xef\xbf\xbd"
            "a");
  EXPECT_EQ(Utf8Lossy("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(HexBytes("w\xff"), "77ff");
  EXPECT_EQ(HexBytes(""), "");
}

// The asset-name rule of spec §6: one path component, 1 to 255 bytes, no separator or control byte.
TEST(AssetNames, OnlySafePathComponents) {
  for (const char* ok : {"tokenizer.json", "config", "..x", "x..", ".hidden", "caf\xc3\xa9", "\xff", "a b", "a:b"})
    EXPECT_EQ(AssetNameProblem(ok), "") << ok;
  EXPECT_EQ(AssetNameProblem(std::string(255, 'n')), "");
  const std::pair<std::string, const char*> bad[] = {
      {"", "is empty"},
      {std::string(256, 'n'), "more than 255"},
      {".", "directory name"},
      {"..", "directory name"},
      {"../x", "contains '/'"},
      {"/abs", "contains '/'"},
      {"a\\b", "contains '\\'"},
      {std::string("a\0b", 3), "control character"},
      {"a\x1b[2J", "control character"},
      {"a\x7f", "control character"},
  };
  for (const auto& [name, why] : bad) EXPECT_NE(AssetNameProblem(name).find(why), std::string::npos) << Printable(name);
}

}  // namespace
}  // namespace sdc
