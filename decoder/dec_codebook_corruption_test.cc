// decoder/dec_container.cc (CheckBanks, CheckCodebookRep) + dec_codebook.cc + the rANS section codec: every
// rule of spec §9 about banks, codebook tensors, sparse residuals and rANS sections, one hand-made
// corruption at a time. Each corruption starts from the same small valid file and must be refused at the
// stage the spec names (open or verify) with its own status code and a message no other rule produces.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "decoder/decoder.h"
#include "encoder/enc_rans.h"
#include "format/endian.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using test::CodebookSpec;
using test::FileParts;
using Bytes = std::vector<uint8_t>;

// Banks: 0 = F16 k 16 dim 4 (section 0, raw), 1 = F32 k 300 dim 4 (section 1, zstd), 2 = F32 k 16 dim 4
// (section 2, raw). Tensors:
//   "cb"   F32 [3, 10], dim 4 (3 sub-vectors a row), banks {0, 2}, F16 scales per 8 columns (sections 3
//          scales, 4 indices0 raw u8, 5 indices1 rans8 u8, 6 residual positions, 7 residual values; the
//          residual corrects elements 1, 2 and 29);
//   "wide" F16 [2, 8], dim 4, bank {1} (k 300: u16 indices), F32 scales per row (sections 8 scales,
//          9 indices rans16);
//   "r"    raw F32 [4] (section 10).
constexpr uint32_t kCbScales = 3, kCbIndices0 = 4, kCbIndices1 = 5, kCbPositions = 6, kCbValues = 7, kWideScales = 8,
                   kWideIndices = 9;

Bytes Indices(uint64_t n, uint32_t k, bool wide, uint64_t seed) {
  Bytes out(n * (wide ? 2 : 1));
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t v = static_cast<uint32_t>(rng() % k);
    if (wide)
      StoreLE16(out.data() + 2 * i, static_cast<uint16_t>(v));
    else
      out[i] = static_cast<uint8_t>(v);
  }
  return out;
}

Bytes BaseFile() {
  test::FileBuilder b;
  b.AddBankValues(test::Gaussian(16 * 4, 1), 16, 4, DType::kF16);
  b.AddBankValues(test::Gaussian(300 * 4, 2), 300, 4, DType::kF32, fb::Codec::Zstd);
  b.AddBankValues(test::Gaussian(16 * 4, 3), 16, 4, DType::kF32);
  CodebookSpec cb;
  cb.dim = 4;
  cb.banks = {0, 2};
  cb.coefficients = {1.0f, 0.5f};
  cb.scale_dtype = DType::kF16;
  cb.group_size = 8;
  cb.scales = test::FloatsAs(DType::kF16, test::Gaussian(6, 4, 0.2));
  cb.indices = {Indices(9, 16, false, 5), Indices(9, 16, false, 6)};
  cb.index_codecs = {fb::Codec::Raw, fb::Codec::Rans8};
  cb.residual = true;
  cb.residual_count = 3;
  cb.positions = test::Leb128Gaps({1, 2, 29});
  cb.values = {0x05, 0x80, 0x7f};
  cb.step = 0.01f;
  b.AddCodebookTensor("cb", DType::kF32, {3, 10}, cb);
  CodebookSpec wide;
  wide.dim = 4;
  wide.banks = {1};
  wide.coefficients = {0.75f};
  wide.scale_dtype = DType::kF32;
  wide.scales = test::FloatsAs(DType::kF32, std::vector<float>{0.5f, -0.25f});
  wide.indices = {Indices(4, 300, true, 7)};
  wide.index_codecs = {fb::Codec::Rans16};
  b.AddCodebookTensor("wide", DType::kF16, {2, 8}, wide);
  b.AddRawTensor("r", DType::kF32, {4}, test::FloatsAs(DType::kF32, test::Gaussian(4, 8)));
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

std::function<Bytes()> EditParts(std::function<void(FileParts&)> edit) {
  return [=] { return test::Rewrite(BaseFile(), edit); };
}

fb::CodebookRepT& Cb(FileParts& p, int tensor = 0) { return *p.manifest.tensors[tensor]->rep.AsCodebookRep(); }
fb::BankT& BankOf(FileParts& p, int bank) { return *p.manifest.banks[bank]; }

Bytes Raw(FileParts& p, uint32_t section) {
  std::span<uint8_t> s = test::SectionBytes(p, section);
  return Bytes(s.begin(), s.end());
}

// Replaces the raw bytes of a raw-coded section (any length) and keeps everything else consistent.
void SetRaw(FileParts& p, uint32_t section, const Bytes& raw) { test::ResizeSection(p, section, raw, raw.size()); }

// Appends `bytes` to the data area as a new raw section of `kind`; returns its index.
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
  const char* message;  // distinctive: no corruption with another expected message produces it
};

std::vector<Corruption> Corruptions() {
  using SC = StatusCode;
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  return {
      // Step 17: banks.
      {"bank k = 0", EditParts([](FileParts& p) { BankOf(p, 0).k = 0; }), Stage::kOpen, SC::kCorrupt,
       "bank 0: k outside 1..65536"},
      {"bank k = 65537", EditParts([](FileParts& p) { BankOf(p, 0).k = 65537; }), Stage::kOpen, SC::kCorrupt,
       "bank 0: k outside 1..65536"},
      {"bank dim 0", EditParts([](FileParts& p) { BankOf(p, 2).dim = 0; }), Stage::kOpen, SC::kCorrupt,
       "bank 2: dim outside 1..16"},
      {"bank dim 17", EditParts([](FileParts& p) { BankOf(p, 2).dim = 17; }), Stage::kOpen, SC::kCorrupt,
       "bank 2: dim outside 1..16"},
      {"bank entry dtype BF16", EditParts([](FileParts& p) { BankOf(p, 0).entry_dtype = fb::DType::BF16; }),
       Stage::kOpen, SC::kCorrupt, "bank 0: entry dtype must be F16 or F32"},
      {"bank entry dtype unknown",
       EditParts([](FileParts& p) { BankOf(p, 0).entry_dtype = static_cast<fb::DType>(99); }), Stage::kOpen,
       SC::kCorrupt, "bank 0: entry dtype must be F16 or F32"},
      {"bank section size (k 16 -> 15)", EditParts([](FileParts& p) { BankOf(p, 0).k = 15; }), Stage::kOpen,
       SC::kCorrupt, "bank 0: section size does not match k x dim"},
      {"bank section size (F16 -> F32 entries)",
       EditParts([](FileParts& p) { BankOf(p, 0).entry_dtype = fb::DType::F32; }), Stage::kOpen, SC::kCorrupt,
       "bank 0: section size does not match k x dim"},
      {"bank refers to a scales section", EditParts([](FileParts& p) { BankOf(p, 1).data = kCbScales; }), Stage::kOpen,
       SC::kCorrupt, "bank 1: section 3 is of kind scales, expected bank"},
      {"bank refers past the section count", EditParts([](FileParts& p) { BankOf(p, 1).data = 40; }), Stage::kOpen,
       SC::kCorrupt, "bank 1: refers to section 40 of 11"},
      {"tensor scales claim a bank section",
       EditParts([](FileParts& p) { Cb(p).scales = AppendSection(p, fb::SectionKind::Bank, Bytes(12, 0)); }),
       Stage::kOpen, SC::kCorrupt, "tensor 'cb' scales: section 11 is of kind bank, expected scales"},
      {"tensor indices claim a bank's own section", EditParts([](FileParts& p) { Cb(p).indices[1] = 2; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb' indices: section 2 is already used by another part"},
      {"bank section nobody refers to",
       EditParts([](FileParts& p) { AppendSection(p, fb::SectionKind::Bank, Bytes(8, 0)); }), Stage::kOpen,
       SC::kCorrupt, "section 11: not referenced by any tensor or asset"},
      {"NaN bank entry", EditParts([](FileParts& p) {
         Bytes b = Raw(p, 0);
         StoreLE16(b.data() + 2 * 3, 0x7e00);
         test::ReplaceSectionBytes(p, 0, b);
       }),
       Stage::kVerify, SC::kCorrupt, "bank 0: bank entry 3 is not finite"},
      {"infinite bank entry", EditParts([](FileParts& p) {
         Bytes b = Raw(p, 2);
         StoreLE32(b.data() + 4 * 63, 0xff800000u);
         test::ReplaceSectionBytes(p, 2, b);
       }),
       Stage::kVerify, SC::kCorrupt, "bank 2: bank entry 63 is not finite"},
      // Step 18.8: CodebookRep.
      {"codebook of an integer tensor", EditParts([](FileParts& p) { p.manifest.tensors[0]->dtype = fb::DType::I16; }),
       Stage::kOpen, SC::kCorrupt, "codebook representation of a non-float tensor"},
      {"M = 0", EditParts([](FileParts& p) {
         Cb(p).banks.clear();
         Cb(p).coefficients.clear();
         Cb(p).indices.clear();
       }),
       Stage::kOpen, SC::kCorrupt, "codebook count 0 outside 1..8"},
      {"M = 9", EditParts([](FileParts& p) {
         Cb(p).banks.assign(9, 0);
         Cb(p).coefficients.assign(9, 1.0f);
       }),
       Stage::kOpen, SC::kCorrupt, "codebook count 9 outside 1..8"},
      {"one coefficient for two codebooks", EditParts([](FileParts& p) { Cb(p).coefficients.pop_back(); }),
       Stage::kOpen, SC::kCorrupt, "needs one coefficient and one index stream per codebook"},
      {"three coefficients for two codebooks", EditParts([](FileParts& p) { Cb(p).coefficients.push_back(1.0f); }),
       Stage::kOpen, SC::kCorrupt, "needs one coefficient and one index stream per codebook"},
      {"one index stream for two codebooks", EditParts([](FileParts& p) { Cb(p).indices.pop_back(); }), Stage::kOpen,
       SC::kCorrupt, "needs one coefficient and one index stream per codebook"},
      {"NaN coefficient", EditParts([nan](FileParts& p) { Cb(p).coefficients[1] = nan; }), Stage::kOpen, SC::kCorrupt,
       "tensor 'cb': coefficient is not finite"},
      {"infinite coefficient", EditParts([inf](FileParts& p) { Cb(p, 1).coefficients[0] = -inf; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'wide': coefficient is not finite"},
      {"bank index out of range", EditParts([](FileParts& p) { Cb(p).banks[1] = 7; }), Stage::kOpen, SC::kCorrupt,
       "tensor 'cb': refers to bank 7 of 3"},
      {"bank dim differs from the tensor's", EditParts([](FileParts& p) {
         BankOf(p, 2).dim = 2;  // same section size: k 32 x dim 2
         BankOf(p, 2).k = 32;
       }),
       Stage::kOpen, SC::kCorrupt, "tensor 'cb': bank dim differs from the tensor's"},
      {"tensor dim differs from its banks'", EditParts([](FileParts& p) { Cb(p).dim = 8; }), Stage::kOpen, SC::kCorrupt,
       "tensor 'cb': bank dim differs from the tensor's"},
      {"codebook scale dtype BF16", EditParts([](FileParts& p) { Cb(p).scale_dtype = fb::DType::BF16; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb': scale dtype must be F16 or F32"},
      {"group size not a multiple of dim", EditParts([](FileParts& p) { Cb(p).group_size = 6; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb': group size is not a multiple of dim"},
      {"codebook scales section size", EditParts([](FileParts& p) { Cb(p).group_size = 4; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb': scales section size does not match rows x groups"},
      {"u8 stream where a k = 300 bank makes it u16", EditParts([](FileParts& p) { Cb(p).banks[1] = 1; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb': index section size does not match rows x vectors per row"},
      {"u16 stream where a k = 16 bank makes it u8", EditParts([](FileParts& p) { Cb(p, 1).banks[0] = 0; }),
       Stage::kOpen, SC::kCorrupt, "tensor 'wide': index section size does not match rows x vectors per row"},
      {"index stream one index short", EditParts([](FileParts& p) {
         Bytes b = Raw(p, kCbIndices0);
         b.pop_back();
         SetRaw(p, kCbIndices0, b);
       }),
       Stage::kOpen, SC::kCorrupt, "tensor 'cb': index section size does not match rows x vectors per row"},
      {"index stream of the wrong kind",
       EditParts([](FileParts& p) { p.manifest.sections[kCbIndices0]->kind = fb::SectionKind::Codes; }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb' indices: section 4 is of kind codes, expected indices"},
      {"u8 index equal to k", EditParts([](FileParts& p) {
         Bytes b = Raw(p, kCbIndices0);
         b[7] = 16;
         test::ReplaceSectionBytes(p, kCbIndices0, b);
       }),
       Stage::kVerify, SC::kCorrupt, "codebook: index 16 of stream 0 exceeds its bank of 16 entries"},
      {"u16 index equal to k (rans16 stream)", EditParts([](FileParts& p) {
         Bytes idx(8);
         for (int i = 0; i < 4; ++i) StoreLE16(idx.data() + 2 * i, static_cast<uint16_t>(i == 2 ? 300 : 299 - i));
         test::ResizeSection(p, kWideIndices, RansEncode(idx, 2, 1), idx.size());
       }),
       Stage::kVerify, SC::kCorrupt, "codebook: index 300 of stream 0 exceeds its bank of 300 entries"},
      {"NaN codebook scale", EditParts([](FileParts& p) {
         Bytes b = Raw(p, kCbScales);
         StoreLE16(b.data() + 2 * 4, 0x7e00);
         test::ReplaceSectionBytes(p, kCbScales, b);
       }),
       Stage::kVerify, SC::kCorrupt, "codebook: scale 4 is not finite"},
      // Step 18.8 (i): sparse residuals.
      {"residual count above numel", EditParts([](FileParts& p) { Cb(p).residual->count = 31; }), Stage::kOpen,
       SC::kCorrupt, "residual count exceeds the element count or its step is not finite"},
      {"residual step NaN", EditParts([nan](FileParts& p) { Cb(p).residual->step = nan; }), Stage::kOpen, SC::kCorrupt,
       "residual count exceeds the element count or its step is not finite"},
      {"residual positions section shorter than the count", EditParts([](FileParts& p) {
         SetRaw(p, kCbPositions, Bytes{1, 0});
       }),
       Stage::kOpen, SC::kCorrupt, "tensor 'cb': residual section sizes do not match the count"},
      {"residual positions section longer than 10 bytes a position",
       EditParts([](FileParts& p) { SetRaw(p, kCbPositions, Bytes(31, 0x80)); }), Stage::kOpen, SC::kCorrupt,
       "tensor 'cb': residual section sizes do not match the count"},
      {"residual values size differs from the count", EditParts([](FileParts& p) {
         SetRaw(p, kCbValues, Bytes{1, 2, 3, 4});
       }),
       Stage::kOpen, SC::kCorrupt, "tensor 'cb': residual section sizes do not match the count"},
      {"residual positions of the wrong kind",
       EditParts([](FileParts& p) { std::swap(Cb(p).residual->positions, Cb(p).residual->values); }), Stage::kOpen,
       SC::kCorrupt, "tensor 'cb' residual positions: section 7 is of kind residual_values"},
      {"residual positions run out inside a varint", EditParts([](FileParts& p) {
         SetRaw(p, kCbPositions, Bytes{0x01, 0x80, 0x80});
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: truncated varint"},
      {"residual positions with a trailing byte", EditParts([](FileParts& p) {
         SetRaw(p, kCbPositions, Bytes{1, 0, 26, 0});
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: bytes left after the last position"},
      {"residual varint of 11 bytes", EditParts([](FileParts& p) {
         Bytes b(10, 0x80);
         b.push_back(0x00);
         SetRaw(p, kCbPositions, b);
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: varint longer than 10 bytes"},
      {"residual varint above 2^64", EditParts([](FileParts& p) {
         Bytes b(9, 0x80);
         b.push_back(0x02);
         SetRaw(p, kCbPositions, b);
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: varint overflows 64 bits"},
      {"residual first position = numel", EditParts([](FileParts& p) {
         SetRaw(p, kCbPositions, Bytes{30, 0, 0});
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: position past the end of the tensor"},
      {"residual last position = numel", EditParts([](FileParts& p) {
         SetRaw(p, kCbPositions, Bytes{1, 0, 27});
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: position past the end of the tensor"},
      {"residual gap near 2^64", EditParts([](FileParts& p) {
         Bytes b = {1};
         for (int i = 0; i < 9; ++i) b.push_back(0xff);
         b.push_back(0x01);  // gap 2^64 - 1
         b.push_back(0);
         SetRaw(p, kCbPositions, b);
       }),
       Stage::kVerify, SC::kCorrupt, "residual positions: position past the end of the tensor"},
      // Sections: rANS.
      {"rans16 section with an odd raw size", EditParts([](FileParts& p) {
         p.manifest.sections[kCbIndices1]->codec = fb::Codec::Rans16;  // 9 raw bytes
       }),
       Stage::kOpen, SC::kCorrupt, "section 5: rans16 section with an odd raw size"},
      {"corrupted rans8 stream with its hash fixed", EditParts([](FileParts& p) {
         Bytes b = Raw(p, kCbIndices1);
         b[b.size() - 5] ^= 0x10;  // inside the last word
         test::ReplaceSectionBytes(p, kCbIndices1, b);
       }),
       Stage::kVerify, SC::kCorrupt, "tensor 'cb': section 5: rans: "},
      {"rans8 stream declaring one byte more",
       EditParts([](FileParts& p) { p.manifest.sections[kCbIndices1]->raw_size += 1; }), Stage::kOpen, SC::kCorrupt,
       "tensor 'cb': index section size does not match rows x vectors per row"},
  };
}

// The base file is valid, and uses every codec the table relies on.
TEST(CodebookCorruption, BaseFileIsValid) {
  const Bytes file = BaseFile();
  const Outcome o = OpenAndVerify(file);
  ASSERT_EQ(o.stage, Stage::kNone) << o.status.ToString();
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(Decoder::Open(file, DecodeLimits(), &d).ok());
  const Container& c = d->container();
  ASSERT_EQ(c.section_count(), 11u);
  EXPECT_EQ(c.section(1).codec(), fb::Codec::Zstd);
  EXPECT_EQ(c.section(kCbIndices0).codec(), fb::Codec::Raw);
  EXPECT_EQ(c.section(kCbIndices1).codec(), fb::Codec::Rans8);
  EXPECT_EQ(c.section(kCbIndices1).raw_size(), 9u);
  EXPECT_EQ(c.section(kWideIndices).codec(), fb::Codec::Rans16);
  EXPECT_EQ(c.section(kWideIndices).kind(), fb::SectionKind::Indices);
  EXPECT_EQ(c.section(kWideScales).kind(), fb::SectionKind::Scales);
  EXPECT_EQ(c.section(kCbPositions).kind(), fb::SectionKind::ResidualPositions);
  EXPECT_EQ(c.section(kCbValues).kind(), fb::SectionKind::ResidualValues);
  EXPECT_EQ(c.manifest().banks()->size(), 3u);
}

// Every corruption is refused at the stage the spec names, with its status code and message.
TEST(CodebookCorruption, EachRuleRejectsItsCase) {
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
TEST(CodebookCorruption, EachCaseHasItsOwnError) {
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

// Every single-byte change of a rANS-coded section, with the section hash fixed so that only the rANS
// decoder (or, when the change yields another valid stream, the tensor hash) can notice, is refused at
// verify — never accepted. Covers rans8 (u8 indices) and rans16 (u16 indices).
TEST(CodebookCorruption, EveryRansByteChangeIsCaughtPastTheSectionHash) {
  const Bytes file = BaseFile();
  for (uint32_t section : {kCbIndices1, kWideIndices}) {
    const FileParts parts = test::Split(file);
    const uint64_t size = parts.manifest.sections[section]->stored_size;
    int by_rans = 0;
    for (uint64_t i = 0; i < size; ++i)
      for (uint8_t mask : {0x01, 0x80, 0xff}) {
        const Bytes f = test::Rewrite(file, [&](FileParts& p) {
          Bytes b = Raw(p, section);
          b[i] ^= mask;
          test::ReplaceSectionBytes(p, section, b);
        });
        const Outcome o = OpenAndVerify(f);
        EXPECT_EQ(o.stage, Stage::kVerify) << "section " << section << " byte " << i << " ^" << int(mask);
        EXPECT_NE(o.status.code(), StatusCode::kOk);
        if (o.status.message().find(": rans: ") != std::string::npos) ++by_rans;
      }
    EXPECT_GT(by_rans, 0) << "section " << section;
  }
}

}  // namespace
}  // namespace sdc
