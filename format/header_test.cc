// format/header.h: the 40-byte header of spec §3 — layout, hash coverage and every rejection of ParseHeader.
#include "format/header.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "format/endian.h"

namespace sdc {
namespace {

// A header followed by `manifest` (and `extra` data bytes), hash filled in.
std::vector<uint8_t> MakeFile(const FileHeader& base, const std::vector<uint8_t>& manifest, size_t extra = 0) {
  FileHeader h = base;
  h.manifest_stored_size = manifest.size();
  if (h.manifest_codec == ManifestCodec::kRaw) h.manifest_raw_size = manifest.size();
  std::vector<uint8_t> file(kHeaderSize);
  EncodeHeader(h, file.data());
  h.xxh64 = HeaderHash(std::span<const uint8_t>(file).first(kHeaderHashedPrefix), manifest);
  EncodeHeader(h, file.data());
  file.insert(file.end(), manifest.begin(), manifest.end());
  file.resize(file.size() + extra, 0xAB);
  return file;
}

// Every field survives EncodeHeader -> ParseHeader, at the byte positions of spec §3.
TEST(Header, RoundTrip) {
  FileHeader h;
  h.minor = 7;
  h.manifest_codec = ManifestCodec::kZstd;
  h.manifest_raw_size = 1234567;
  std::vector<uint8_t> manifest(100, 0x5A);
  std::vector<uint8_t> file = MakeFile(h, manifest, 16);
  EXPECT_EQ(std::memcmp(file.data(), kMagic, 8), 0);
  EXPECT_EQ(LoadLE16(file.data() + 8), 1);
  EXPECT_EQ(LoadLE16(file.data() + 10), 7);
  EXPECT_EQ(file[12], 1);
  EXPECT_EQ(file[13] | file[14] | file[15], 0);
  EXPECT_EQ(LoadLE64(file.data() + 16), 100u);
  EXPECT_EQ(LoadLE64(file.data() + 24), 1234567u);

  FileHeader p;
  ASSERT_TRUE(ParseHeader(file, &p).ok());
  EXPECT_EQ(p.major, kFormatMajor);
  EXPECT_EQ(p.minor, 7);
  EXPECT_EQ(p.manifest_codec, ManifestCodec::kZstd);
  EXPECT_EQ(p.manifest_stored_size, 100u);
  EXPECT_EQ(p.manifest_raw_size, 1234567u);
  EXPECT_EQ(p.xxh64, LoadLE64(file.data() + 32));
  EXPECT_EQ(p.xxh64, HeaderHash(std::span<const uint8_t>(file).first(32), manifest));
}

// A header with an empty manifest exactly fills a 40-byte file; that is the smallest accepted input.
TEST(Header, EmptyManifestIsAccepted) {
  std::vector<uint8_t> file = MakeFile(FileHeader{}, {});
  ASSERT_EQ(file.size(), kHeaderSize);
  FileHeader p;
  EXPECT_TRUE(ParseHeader(file, &p).ok());
}

// The hash covers every byte before it (the minor version too) and every manifest byte.
TEST(Header, HashCoversPrefixAndManifest) {
  std::vector<uint8_t> manifest(64, 1);
  std::vector<uint8_t> file = MakeFile(FileHeader{}, manifest);
  const uint64_t h = HeaderHash(std::span<const uint8_t>(file).first(32), manifest);
  for (size_t i = 0; i < 32; ++i) {
    std::vector<uint8_t> f = file;
    f[i] ^= 1;
    EXPECT_NE(HeaderHash(std::span<const uint8_t>(f).first(32), manifest), h) << "header byte " << i;
  }
  for (size_t i = 0; i < manifest.size(); ++i) {
    std::vector<uint8_t> m = manifest;
    m[i] ^= 0x80;
    EXPECT_NE(HeaderHash(std::span<const uint8_t>(file).first(32), m), h) << "manifest byte " << i;
  }
}

struct Rejection {
  const char* what;
  StatusCode code;
  const char* message;
  void (*mutate)(std::vector<uint8_t>&);
};

// Each malformed header is refused with its own status and message (spec §9 A1-A7).
TEST(Header, Rejections) {
  const Rejection cases[] = {
      {"truncated to 39 bytes", StatusCode::kCorrupt, "truncated file (39 bytes",
       [](std::vector<uint8_t>& f) { f.resize(39); }},
      {"empty file", StatusCode::kCorrupt, "truncated file (0 bytes", [](std::vector<uint8_t>& f) { f.clear(); }},
      {"bad magic", StatusCode::kCorrupt, "bad magic", [](std::vector<uint8_t>& f) { f[1] = 'X'; }},
      {"text-mode damage to the magic", StatusCode::kCorrupt, "bad magic",
       [](std::vector<uint8_t>& f) { f[4] = '\n'; }},
      {"major version 2", StatusCode::kUnsupported, "format major version 2",
       [](std::vector<uint8_t>& f) { StoreLE16(f.data() + 8, 2); }},
      {"major version 0", StatusCode::kUnsupported, "format major version 0",
       [](std::vector<uint8_t>& f) { StoreLE16(f.data() + 8, 0); }},
      {"unknown manifest codec", StatusCode::kUnsupported, "unknown manifest codec 2",
       [](std::vector<uint8_t>& f) { f[12] = 2; }},
      {"nonzero reserved byte 13", StatusCode::kCorrupt, "reserved bytes are not zero",
       [](std::vector<uint8_t>& f) { f[13] = 1; }},
      {"nonzero reserved byte 15", StatusCode::kCorrupt, "reserved bytes are not zero",
       [](std::vector<uint8_t>& f) { f[15] = 0x80; }},
      {"manifest past end", StatusCode::kCorrupt, "extends past the end of the file",
       [](std::vector<uint8_t>& f) { StoreLE64(f.data() + 16, f.size() - kHeaderSize + 1); }},
      {"manifest size near 2^64", StatusCode::kCorrupt, "extends past the end of the file",
       [](std::vector<uint8_t>& f) { StoreLE64(f.data() + 16, ~uint64_t{0}); }},
      {"raw manifest with differing sizes", StatusCode::kCorrupt, "differing stored and raw sizes",
       [](std::vector<uint8_t>& f) { StoreLE64(f.data() + 24, LoadLE64(f.data() + 16) + 1); }},
  };
  const std::vector<uint8_t> good = MakeFile(FileHeader{}, std::vector<uint8_t>(32, 7));
  FileHeader p;
  ASSERT_TRUE(ParseHeader(good, &p).ok());
  for (const Rejection& c : cases) {
    std::vector<uint8_t> f = good;
    c.mutate(f);
    Status s = ParseHeader(f, &p);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.what << ": " << s.ToString();
  }
}

// Any minor version of major 1 is read (additive changes only), as spec §3/§12 require.
TEST(Header, AnyMinorIsAccepted) {
  for (uint16_t minor : {0, 1, 0xffff}) {
    FileHeader h;
    h.minor = minor;
    FileHeader p;
    ASSERT_TRUE(ParseHeader(MakeFile(h, {1, 2, 3}), &p).ok()) << minor;
    EXPECT_EQ(p.minor, minor);
  }
}

}  // namespace
}  // namespace sdc
