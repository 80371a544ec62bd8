// decoder/dec_container.cc + decoder.cc: every validation rule of spec §9, one hand-made corruption at a
// time. Each corruption starts from the same small valid file and must be refused with its own status code
// and a message that no other corruption produces, at the stage the spec names (open or verify).
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "decoder/dec_container.h"
#include "decoder/decoder.h"
#include "format/endian.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using test::FileParts;
using Bytes = std::vector<uint8_t>;

// Sections: 0 scales of "w", 1 codes of "w", 2 data of "b", 3 data of "c", 4 the asset "tok".
// "w" is scalar (4 bits: Q = 7, codes 0..14) with F16 scales, "b" and "c" raw F32.
Bytes BaseFile(fb::Codec asset_codec = fb::Codec::Raw) {
  test::FileBuilder b;
  b.AddQuantizedTensor("w", DType::kF32, {4, 16}, test::Gaussian(64, 1), 4, 0);
  b.AddRawTensor("b", DType::kF32, {8}, test::FloatsAs(DType::kF32, test::Gaussian(8, 2)));
  b.AddRawTensor("c", DType::kF32, {8}, test::FloatsAs(DType::kF32, test::Gaussian(8, 3)));
  b.AddAsset("tok", std::vector<uint8_t>(40, 'x'), asset_codec);
  return b.Build();
}

enum class Stage { kOpen, kVerify, kNone };
const char* StageName(Stage s) { return s == Stage::kOpen ? "open" : s == Stage::kVerify ? "verify" : "none"; }

struct Outcome {
  Stage stage = Stage::kNone;
  Status status;
};

Outcome OpenAndVerify(const Bytes& file) {
  std::unique_ptr<Decoder> d;
  Status s = Decoder::Open(file, DecodeLimits(), &d);
  if (!s.ok()) return {Stage::kOpen, s};
  s = d->Verify();
  if (!s.ok()) return {Stage::kVerify, s};
  return {};
}

// Edits on the raw bytes of the base file.
std::function<Bytes()> EditBytes(std::function<void(Bytes&)> edit, fb::Codec asset_codec = fb::Codec::Raw) {
  return [=] {
    Bytes f = BaseFile(asset_codec);
    edit(f);
    return f;
  };
}
// Edits on the unpacked manifest and data area; the file is re-joined with a correct header hash.
std::function<Bytes()> EditParts(std::function<void(FileParts&)> edit, fb::Codec asset_codec = fb::Codec::Raw) {
  return [=] { return test::Rewrite(BaseFile(asset_codec), edit); };
}

fb::RawRepT& RawOf(FileParts& p, int tensor) { return *p.manifest.tensors[tensor]->rep.AsRawRep(); }
fb::ScalarRepT& ScalarOf(FileParts& p) { return *p.manifest.tensors[0]->rep.AsScalarRep(); }

// Appends `bytes` to the data area as a new section of `kind`; returns its index.
uint32_t AppendSection(FileParts& p, fb::SectionKind kind, const Bytes& bytes) {
  auto s = std::make_unique<fb::SectionT>();
  s->kind = kind;
  s->offset = p.data.size();
  s->stored_size = s->raw_size = bytes.size();
  s->xxh64 = test::Hash(bytes);
  p.data.insert(p.data.end(), bytes.begin(), bytes.end());
  p.manifest.sections.push_back(std::move(s));
  return static_cast<uint32_t>(p.manifest.sections.size() - 1);
}

struct Corruption {
  const char* what;
  std::function<Bytes()> make;
  Stage stage;
  StatusCode code;
  const char* message;  // distinctive: no other corruption's message contains it
};

std::vector<Corruption> Corruptions() {
  using SC = StatusCode;
  return {
      // A. header
      {"bad magic", EditBytes([](Bytes& f) { f[0] ^= 0xff; }), Stage::kOpen, SC::kCorrupt, "bad magic"},
      {"truncated below the header", EditBytes([](Bytes& f) { f.resize(20); }), Stage::kOpen, SC::kCorrupt,
       "truncated file (20 bytes"},
      {"major version 2", EditBytes([](Bytes& f) {
         StoreLE16(f.data() + 8, 2);
         test::Rehash(f);
       }),
       Stage::kOpen, SC::kUnsupported, "format major version 2"},
      {"unknown manifest codec", EditBytes([](Bytes& f) {
         f[12] = 9;
         test::Rehash(f);
       }),
       Stage::kOpen, SC::kUnsupported, "unknown manifest codec 9"},
      {"nonzero reserved byte", EditBytes([](Bytes& f) {
         f[14] = 1;
         test::Rehash(f);
       }),
       Stage::kOpen, SC::kCorrupt, "reserved bytes are not zero"},
      {"manifest past end", EditBytes([](Bytes& f) { StoreLE64(f.data() + 16, f.size()); }), Stage::kOpen, SC::kCorrupt,
       "extends past the end of the file"},
      {"raw manifest sizes differ", EditBytes([](Bytes& f) { StoreLE64(f.data() + 24, LoadLE64(f.data() + 16) - 1); }),
       Stage::kOpen, SC::kCorrupt, "raw manifest with differing stored and raw sizes"},
      // B. manifest bytes
      {"manifest over the size limit", EditBytes([](Bytes& f) {
         f[12] = 1;
         StoreLE64(f.data() + 24, uint64_t{1} << 30);
       }),
       Stage::kOpen, SC::kLimitExceeded, "manifest: 1073741824 bytes exceeds the limit"},
      {"manifest hash mismatch", EditBytes([](Bytes& f) { f[32] ^= 1; }), Stage::kOpen, SC::kChecksumMismatch,
       "header/manifest: XXH64 does not match"},
      {"manifest byte changed", EditBytes([](Bytes& f) { f[kHeaderSize + 9] ^= 0x10; }), Stage::kOpen,
       SC::kChecksumMismatch, "header/manifest: XXH64 does not match"},
      {"zstd manifest of the wrong size",
       [] {
         FileParts p = test::Split(BaseFile());
         Bytes f = test::Join(p, /*zstd=*/true);
         StoreLE64(f.data() + 24, LoadLE64(f.data() + 24) + 1);
         test::Rehash(f);
         return f;
       },
       Stage::kOpen, SC::kCorrupt, "manifest: zstd: decoded"},
      // C. FlatBuffers structure
      {"garbage manifest with a correct hash",
       [] {
         FileParts p = test::Split(BaseFile());
         return test::JoinManifestBytes(test::RandomBytes(300, 77), p.data);
       },
       Stage::kOpen, SC::kCorrupt, "FlatBuffers verification failed"},
      {"wrong file identifier",
       [] {
         Bytes f = BaseFile();
         f[kHeaderSize + 7] = '2';  // "SDC1" -> "SDC2"
         test::Rehash(f);
         return f;
       },
       Stage::kOpen, SC::kCorrupt, "FlatBuffers verification failed"},
      // D. sections
      {"alignment not a power of two", EditParts([](FileParts& p) { p.manifest.alignment = 3; }), Stage::kOpen,
       SC::kCorrupt, "alignment 3 is not 0 or a power of two"},
      {"unknown section kind",
       EditParts([](FileParts& p) { p.manifest.sections[1]->kind = static_cast<fb::SectionKind>(9); }), Stage::kOpen,
       SC::kUnsupported, "section 1: unknown kind 9"},
      {"unknown section codec",
       EditParts([](FileParts& p) { p.manifest.sections[1]->codec = static_cast<fb::Codec>(200); }), Stage::kOpen,
       SC::kUnsupported, "section 1: unknown codec 200"},
      {"section offset past end", EditParts([](FileParts& p) { p.manifest.sections[4]->offset = p.data.size() + 1; }),
       Stage::kOpen, SC::kCorrupt, "runs past the end of the file"},
      {"section size past end", EditParts([](FileParts& p) { p.manifest.sections[4]->stored_size += 1; }), Stage::kOpen,
       SC::kCorrupt, "runs past the end of the file"},
      {"section offset near 2^64", EditParts([](FileParts& p) { p.manifest.sections[2]->offset = ~uint64_t{0} - 3; }),
       Stage::kOpen, SC::kCorrupt, "runs past the end of the file"},
      {"overlapping sections",
       EditParts([](FileParts& p) { p.manifest.sections[3]->offset = p.manifest.sections[2]->offset + 4; }),
       Stage::kOpen, SC::kCorrupt, "section 3: overlaps the previous section"},
      {"unaccounted gap", EditParts([](FileParts& p) {
         const uint64_t at = p.manifest.sections[3]->offset;
         p.data.insert(p.data.begin() + at, 4, 0);
         p.manifest.sections[3]->offset += 4;
         p.manifest.sections[4]->offset += 4;
       }),
       Stage::kOpen, SC::kCorrupt, "section 3: leaves 4 unaccounted bytes before it"},
      {"trailing bytes after the last section", EditBytes([](Bytes& f) { f.push_back(0); }), Stage::kOpen, SC::kCorrupt,
       "1 bytes after the last section are not described"},
      {"nonzero alignment padding",
       [] {
         test::FileBuilder b;
         b.SetAlignment(16);
         b.AddRawTensor("b", DType::kU8, {3}, Bytes{1, 2, 3});
         b.AddAsset("tok", Bytes(5, 'x'));
         Bytes f = b.Build();
         FileParts p = test::Split(f);
         const uint64_t gap_at = kHeaderSize + p.header.manifest_stored_size + p.manifest.sections[0]->offset + 3;
         EXPECT_LT(gap_at, kHeaderSize + p.header.manifest_stored_size + p.manifest.sections[1]->offset);
         f[gap_at] = 1;  // padding is covered by the zero check only, so no hash needs fixing
         return f;
       },
       Stage::kOpen, SC::kCorrupt, "section 1: alignment padding before it is not zero"},
      {"huge declared raw size", EditParts([](FileParts& p) { p.manifest.sections[4]->raw_size = uint64_t{9} << 30; }),
       Stage::kOpen, SC::kLimitExceeded, "section 4: raw size 9663676416 exceeds the limit"},
      {"raw codec with differing sizes", EditParts([](FileParts& p) { p.manifest.sections[2]->raw_size += 1; }),
       Stage::kOpen, SC::kCorrupt, "section 2: raw codec with differing stored and raw sizes"},
      // E. tensors
      {"duplicate tensor name", EditParts([](FileParts& p) { p.manifest.tensors[2]->name = "b"; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'b': duplicate name"},
      {"empty tensor name", EditParts([](FileParts& p) { p.manifest.tensors[1]->name = ""; }), Stage::kOpen,
       SC::kCorrupt, "tensor 1: name empty or longer than 4096"},
      {"tensor name over 4096 bytes",
       EditParts([](FileParts& p) { p.manifest.tensors[1]->name = std::string(4097, 'n'); }), Stage::kOpen,
       SC::kCorrupt, "tensor 1: name empty or longer than 4096"},
      {"unknown dtype", EditParts([](FileParts& p) { p.manifest.tensors[1]->dtype = static_cast<fb::DType>(77); }),
       Stage::kOpen, SC::kUnsupported, "tensor 'b': unknown dtype"},
      {"unknown role", EditParts([](FileParts& p) { p.manifest.tensors[1]->role = static_cast<fb::Role>(6); }),
       Stage::kOpen, SC::kUnsupported, "tensor 'b': unknown role"},
      {"role_source 2", EditParts([](FileParts& p) { p.manifest.tensors[1]->role_source = 2; }), Stage::kOpen,
       SC::kCorrupt, "role_source is neither 0 nor 1"},
      {"rank over limit", EditParts([](FileParts& p) { p.manifest.tensors[1]->shape = std::vector<uint64_t>(9, 1); }),
       Stage::kOpen, SC::kLimitExceeded, "tensor 'b': rank 9 exceeds the limit of 8"},
      {"huge shape (product overflows 2^64)", EditParts([](FileParts& p) {
         p.manifest.tensors[1]->shape = {uint64_t{1} << 40, uint64_t{1} << 40};
       }),
       Stage::kOpen, SC::kLimitExceeded, "tensor 'b': shape overflows or exceeds the tensor limit"},
      {"shape over the tensor limit",
       EditParts([](FileParts& p) { p.manifest.tensors[1]->shape = {uint64_t{3} << 30}; }), Stage::kOpen,
       SC::kLimitExceeded, "tensor 'b': shape overflows or exceeds the tensor limit"},
      {"no representation",
       [] {
         Bytes f = BaseFile();
         test::PatchRepType(f, 1, 0);
         return f;
       },
       Stage::kOpen, SC::kCorrupt, "tensor 'b': no representation"},
      {"unknown representation",
       [] {
         Bytes f = BaseFile();
         test::PatchRepType(f, 1, 9);
         return f;
       },
       Stage::kOpen, SC::kUnsupported, "tensor 'b': unknown representation 9"},
      {"unknown stored dtype", EditParts([](FileParts& p) { RawOf(p, 1).stored_dtype = static_cast<fb::DType>(50); }),
       Stage::kOpen, SC::kUnsupported, "unknown stored dtype"},
      {"raw cast to a non-float storage", EditParts([](FileParts& p) { RawOf(p, 1).stored_dtype = fb::DType::I32; }),
       Stage::kOpen, SC::kCorrupt, "raw storage as I32 cannot reconstruct F32"},
      {"raw data size does not match the shape", EditParts([](FileParts& p) { p.manifest.tensors[1]->shape = {9}; }),
       Stage::kOpen, SC::kCorrupt, "data section size does not match shape x stored dtype"},
      {"section referenced twice", EditParts([](FileParts& p) { RawOf(p, 2).data = RawOf(p, 1).data; }), Stage::kOpen,
       SC::kCorrupt, "is already used by another part"},
      {"reference past the section count", EditParts([](FileParts& p) { RawOf(p, 1).data = 99; }), Stage::kOpen,
       SC::kCorrupt, "refers to section 99 of 5"},
      {"wrong section kind", EditParts([](FileParts& p) { p.manifest.sections[2]->kind = fb::SectionKind::Asset; }),
       Stage::kOpen, SC::kCorrupt, "section 2 is of kind asset, expected tensor_data"},
      {"scalar representation of an integer tensor",
       EditParts([](FileParts& p) { p.manifest.tensors[0]->dtype = fb::DType::I8; }), Stage::kOpen, SC::kCorrupt,
       "scalar representation of a non-float tensor"},
      {"scalar bits 9", EditParts([](FileParts& p) { ScalarOf(p).bits = 9; }), Stage::kOpen, SC::kCorrupt,
       "scalar bits 9 outside 2..8"},
      {"scalar bits 1", EditParts([](FileParts& p) { ScalarOf(p).bits = 1; }), Stage::kOpen, SC::kCorrupt,
       "scalar bits 1 outside 2..8"},
      {"scale dtype BF16", EditParts([](FileParts& p) { ScalarOf(p).scale_dtype = fb::DType::BF16; }), Stage::kOpen,
       SC::kCorrupt, "scale dtype must be F16 or F32"},
      {"scales section size", EditParts([](FileParts& p) { ScalarOf(p).group_size = 8; }), Stage::kOpen, SC::kCorrupt,
       "scales section size does not match rows x groups"},
      {"codes section size", EditParts([](FileParts& p) {
         p.manifest.tensors[0]->shape = {4, 15};
       }),
       Stage::kOpen, SC::kCorrupt, "codes section size does not match the element count"},
      // F, G. assets and coverage
      {"duplicate asset name", EditParts([](FileParts& p) {
         auto a = std::make_unique<fb::AssetT>();
         a->name = "tok";
         a->data = AppendSection(p, fb::SectionKind::Asset, Bytes{1, 2});
         p.manifest.assets.push_back(std::move(a));
       }),
       Stage::kOpen, SC::kCorrupt, "asset 'tok': duplicate name"},
      {"empty asset name", EditParts([](FileParts& p) { p.manifest.assets[0]->name = ""; }), Stage::kOpen, SC::kCorrupt,
       "asset 0: name empty or too long"},
      {"unreferenced section", EditParts([](FileParts& p) {
         AppendSection(p, fb::SectionKind::Asset, Bytes{1, 2, 3});
       }),
       Stage::kOpen, SC::kCorrupt, "section 5: not referenced by any tensor or asset"},
      // H. decoding
      {"bad section checksum", EditParts([](FileParts& p) { test::SectionBytes(p, 2)[5] ^= 0x40; }), Stage::kVerify,
       SC::kChecksumMismatch, "section 2 (tensor_data): XXH64 does not match"},
      {"wrong tensor hash", EditParts([](FileParts& p) { p.manifest.tensors[2]->xxh64 ^= 1; }), Stage::kVerify,
       SC::kChecksumMismatch, "tensor 'c': XXH64 of the reconstruction does not match"},
      {"tensor data changed with its section hash fixed", EditParts([](FileParts& p) {
         Bytes d(test::SectionBytes(p, 3).begin(), test::SectionBytes(p, 3).end());
         d[0] ^= 1;
         test::ReplaceSectionBytes(p, 3, d);
       }),
       Stage::kVerify, SC::kChecksumMismatch, "tensor 'c': XXH64 of the reconstruction does not match"},
      {"scalar code above 2Q", EditParts([](FileParts& p) {
         Bytes codes(test::SectionBytes(p, 1).begin(), test::SectionBytes(p, 1).end());
         codes[17] = 15;
         test::ReplaceSectionBytes(p, 1, codes);
       }),
       Stage::kVerify, SC::kCorrupt, "code 15 exceeds 2Q = 14"},
      {"NaN scale", EditParts([](FileParts& p) {
         Bytes scales(test::SectionBytes(p, 0).begin(), test::SectionBytes(p, 0).end());
         StoreLE16(scales.data() + 2, 0x7e00);
         test::ReplaceSectionBytes(p, 0, scales);
       }),
       Stage::kVerify, SC::kCorrupt, "scale 1 is negative or not finite"},
      {"infinite scale", EditParts([](FileParts& p) {
         Bytes scales(test::SectionBytes(p, 0).begin(), test::SectionBytes(p, 0).end());
         StoreLE16(scales.data() + 2, 0x7c00);
         test::ReplaceSectionBytes(p, 0, scales);
       }),
       Stage::kVerify, SC::kCorrupt, "scale 1 is negative or not finite"},
      {"negative scale", EditParts([](FileParts& p) {
         Bytes scales(test::SectionBytes(p, 0).begin(), test::SectionBytes(p, 0).end());
         StoreLE16(scales.data() + 2, 0xbc00);
         test::ReplaceSectionBytes(p, 0, scales);
       }),
       Stage::kVerify, SC::kCorrupt, "scale 1 is negative or not finite"},
      // F. asset names are file names (spec §6): one safe path component (issue 14, finding 8)
      {"asset name with a slash", EditParts([](FileParts& p) { p.manifest.assets[0]->name = "../x"; }), Stage::kOpen,
       SC::kCorrupt, "asset '../x': name contains '/'"},
      {"asset name '..'", EditParts([](FileParts& p) { p.manifest.assets[0]->name = ".."; }), Stage::kOpen,
       SC::kCorrupt, "asset '..': name is a directory name"},
      {"asset name of 256 bytes", EditParts([](FileParts& p) { p.manifest.assets[0]->name = std::string(256, 'a'); }),
       Stage::kOpen, SC::kCorrupt, "name is 256 bytes, more than 255"},
      {"asset name with an escape", EditParts([](FileParts& p) { p.manifest.assets[0]->name = "a\x1b[2J"; }),
       Stage::kOpen, SC::kCorrupt, "asset 'a\\x1b[2J': name contains a control character"},
      // names in messages are escaped (finding 10)
      {"escape in a tensor name", EditParts([](FileParts& p) {
         p.manifest.tensors[1]->name = "\x1b[2Jb";
         p.manifest.tensors[1]->dtype = static_cast<fb::DType>(77);
       }),
       Stage::kOpen, SC::kUnsupported, "tensor '\\x1b[2Jb': unknown dtype"},
      // zstd frames outside spec §5 (findings 4 and 5)
      {"legacy zstd frame",
       EditParts(
           [](FileParts& p) {
             Bytes stored(test::SectionBytes(p, 4).begin(), test::SectionBytes(p, 4).end());
             stored[0] = 0x27;  // magic 0xFD2FB527: zstd v0.7
             test::ReplaceSectionBytes(p, 4, stored);
           },
           fb::Codec::Zstd),
       Stage::kVerify, SC::kCorrupt, "legacy frames are not part of the format"},
      {"zstd section of the wrong declared size",
       EditParts([](FileParts& p) { p.manifest.sections[4]->raw_size += 1; }, fb::Codec::Zstd), Stage::kVerify,
       SC::kCorrupt, "section 4: zstd: decoded 40 bytes, declared 41"},
  };
}

// Every corruption is refused at the stage the spec names, with its status code and message.
TEST(Corruption, EachRuleRejectsItsCase) {
  ASSERT_EQ(OpenAndVerify(BaseFile()).stage, Stage::kNone) << OpenAndVerify(BaseFile()).status.ToString();
  ASSERT_EQ(OpenAndVerify(BaseFile(fb::Codec::Zstd)).stage, Stage::kNone);
  for (const Corruption& c : Corruptions()) {
    const Outcome o = OpenAndVerify(c.make());
    EXPECT_EQ(StageName(o.stage), std::string(StageName(c.stage))) << c.what << ": " << o.status.ToString();
    EXPECT_EQ(StatusCodeName(o.status.code()), std::string(StatusCodeName(c.code)))
        << c.what << ": " << o.status.ToString();
    EXPECT_NE(o.status.message().find(c.message), std::string::npos) << c.what << ": " << o.status.ToString();
  }
}

// No two corruptions are reported alike: a corruption's message never contains the distinctive text of a
// corruption with a different expected message, so each rule is the one that fired.
TEST(Corruption, EachCaseHasItsOwnError) {
  const std::vector<Corruption> cases = Corruptions();
  std::vector<std::string> messages;
  for (const Corruption& c : cases) messages.push_back(OpenAndVerify(c.make()).status.message());
  for (size_t i = 0; i < cases.size(); ++i)
    for (size_t j = 0; j < cases.size(); ++j) {
      if (std::string(cases[i].message) == cases[j].message) continue;
      EXPECT_EQ(messages[i].find(cases[j].message), std::string::npos)
          << "'" << cases[i].what << "' reads like '" << cases[j].what << "': " << messages[i];
    }
}

// Every prefix of a valid file is refused, and the named prefixes fail with the check that owns them.
TEST(Corruption, EveryTruncationFails) {
  const Bytes file = BaseFile();
  for (size_t n = 0; n < file.size(); ++n) {
    const Outcome o = OpenAndVerify(Bytes(file.begin(), file.begin() + n));
    ASSERT_NE(o.stage, Stage::kNone) << "prefix of " << n << " bytes was accepted";
  }
  FileParts p = test::Split(file);
  const size_t data_start = kHeaderSize + p.header.manifest_stored_size;
  struct Named {
    size_t length;
    const char* message;
  };
  const Named named[] = {
      {0, "truncated file (0 bytes"},
      {39, "truncated file (39 bytes"},
      {40, "extends past the end of the file"},
      {data_start - 1, "extends past the end of the file"},
      {data_start, "section 0: offset 0 + size"},
      {data_start + 1, "section 0: offset 0 + size"},
      {file.size() - 1, "section 4: offset"},
  };
  for (const Named& n : named) {
    const Outcome o = OpenAndVerify(Bytes(file.begin(), file.begin() + n.length));
    EXPECT_EQ(o.stage, Stage::kOpen) << n.length;
    EXPECT_EQ(o.status.code(), StatusCode::kCorrupt) << n.length;
    EXPECT_NE(o.status.message().find(n.message), std::string::npos) << n.length << ": " << o.status.ToString();
  }
}

// A zstd-coded section that is empty when stored decodes only to zero bytes (spec §5).
TEST(Corruption, EmptyZstdSection) {
  test::FileParts p = test::Split(test::FileBuilder().Build());
  auto s = std::make_unique<fb::SectionT>();
  s->kind = fb::SectionKind::Asset;
  s->codec = fb::Codec::Zstd;
  s->xxh64 = test::Hash({});
  p.manifest.sections.push_back(std::move(s));
  auto a = std::make_unique<fb::AssetT>();
  a->name = "empty";
  p.manifest.assets.push_back(std::move(a));
  EXPECT_EQ(OpenAndVerify(test::Join(p)).stage, Stage::kNone) << OpenAndVerify(test::Join(p)).status.ToString();
  p.manifest.sections[0]->raw_size = 1;
  const Outcome o = OpenAndVerify(test::Join(p));
  EXPECT_EQ(o.stage, Stage::kVerify);
  EXPECT_EQ(o.status.code(), StatusCode::kCorrupt) << o.status.ToString();
}

TEST(SectionKindName, NamesEveryKindAndNothingElse) {
  // The names the reports and error messages use (spec section 13); any other byte is "unknown".
  const std::vector<std::string> names = {"tensor_data",        "scales",         "codes", "asset", "bank", "indices",
                                          "residual_positions", "residual_values"};
  ASSERT_EQ(names.size(), static_cast<size_t>(fb::SectionKind::MAX) + 1);
  for (size_t k = 0; k < names.size(); ++k) EXPECT_EQ(SectionKindName(static_cast<fb::SectionKind>(k)), names[k]);
  for (int k = static_cast<int>(fb::SectionKind::MAX) + 1; k < 256; ++k)
    EXPECT_STREQ(SectionKindName(static_cast<fb::SectionKind>(k)), "unknown") << k;
}

}  // namespace
}  // namespace sdc
