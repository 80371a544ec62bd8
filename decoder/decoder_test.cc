// decoder/: reconstruction of valid files made by the test-only builder (never the encoder). Raw tensors
// of every dtype come back byte for byte, casts and scalar tensors match the reference rules of spec §7/§8
// written independently in tests/test_util.h, and each decode limit is enforced at open time.
#include "decoder/decoder.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "format/endian.h"
#include "tests/sdc_test_builder.h"
#include "tests/test_util.h"

namespace sdc {
namespace {

using test::FileBuilder;

Status OpenBytes(std::vector<uint8_t> file, std::unique_ptr<Decoder>* d, const DecodeLimits& limits = {}) {
  return Decoder::Open(std::move(file), limits, d);
}

std::vector<DecodedTensor> DecodeAllOrDie(const std::vector<uint8_t>& file) {
  std::unique_ptr<Decoder> d;
  Status s = OpenBytes(file, &d);
  EXPECT_TRUE(s.ok()) << s.ToString();
  if (!s.ok()) return {};
  std::vector<DecodedTensor> tensors;
  std::vector<DecodedAsset> assets;
  s = d->DecodeAll(&tensors, &assets);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(d->Verify().ok());
  return tensors;
}

const std::vector<std::vector<uint64_t>> kShapes = {{}, {7}, {3, 5}, {2, 3, 4}, {2, 1, 2, 3}, {0}, {3, 0}, {0, 5}};

// A file with no sections, tensors or assets is valid and decodes to nothing.
TEST(Decoder, EmptyFile) {
  FileBuilder b;
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(OpenBytes(b.Build(), &d).ok());
  EXPECT_EQ(d->tensor_count(), 0u);
  EXPECT_EQ(d->asset_count(), 0u);
  EXPECT_EQ(d->container().file_size(), d->container().data_start());
  EXPECT_TRUE(d->Verify().ok());
}

// Raw tensors of every dtype and shape kind (0-d, 1-d to 4-d, empty), stored raw or zstd, decode to exactly
// the stored bytes, with name, dtype, shape and role carried through.
TEST(Decoder, RawEveryDtypeIsByteExact) {
  for (fb::Codec codec : {fb::Codec::Raw, fb::Codec::Zstd}) {
    FileBuilder b;
    std::vector<std::vector<uint8_t>> expect;
    for (int d = 0; d < kDTypeCount; ++d)
      for (size_t s = 0; s < kShapes.size(); ++s) {
        const DType dt = static_cast<DType>(d);
        // zstd needs something compressible; the low byte pattern repeats.
        std::vector<uint8_t> bytes(test::Numel(kShapes[s]) * DTypeSize(dt));
        for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i % 5 == 0 ? i * 37 : 3);
        fb::TensorT& t = b.AddRawTensor("t" + std::to_string(d) + "_" + std::to_string(s), dt, kShapes[s], bytes, dt,
                                        bytes.empty() ? fb::Codec::Raw : codec);
        t.role = static_cast<fb::Role>((d + s) % kRoleCount);
        expect.push_back(bytes);
      }
    const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
    ASSERT_EQ(out.size(), expect.size());
    size_t i = 0;
    for (int d = 0; d < kDTypeCount; ++d)
      for (size_t s = 0; s < kShapes.size(); ++s, ++i) {
        EXPECT_EQ(out[i].name, "t" + std::to_string(d) + "_" + std::to_string(s));
        EXPECT_EQ(out[i].dtype, static_cast<DType>(d));
        EXPECT_EQ(out[i].shape, kShapes[s]);
        EXPECT_EQ(out[i].role, static_cast<Role>((d + s) % kRoleCount));
        EXPECT_EQ(out[i].data, expect[i]) << out[i].name;
      }
  }
}

// Raw bytes are copied unchanged whatever they hold: NaN payloads, infinities, Bool bytes other than 0/1.
TEST(Decoder, RawCopiesAnyBitPattern) {
  FileBuilder b;
  std::vector<uint8_t> f32(16);
  StoreLE32(f32.data(), 0x7fa00001u);  // signalling NaN with payload
  StoreLE32(f32.data() + 4, 0xff800000u);
  StoreLE32(f32.data() + 8, 0x00000001u);
  StoreLE32(f32.data() + 12, 0x80000000u);
  std::vector<uint8_t> boolean = {0, 1, 2, 255};
  b.AddRawTensor("f", DType::kF32, {4}, f32);
  b.AddRawTensor("b", DType::kBool, {4}, boolean);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].data, f32);
  EXPECT_EQ(out[1].data, boolean);
}

// Raw storage cast to F16/BF16 widens exactly and rounds to the tensor dtype (spec §8.2), e.g. F16 -> BF16
// through binary32 with round to nearest even; checked value by value against the reference conversions.
TEST(Decoder, RawCastReconstruction) {
  const std::vector<float> v = test::Gaussian(300, 7, 3.0);
  for (DType stored : {DType::kF16, DType::kBF16})
    for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
      if (stored == dtype) continue;
      FileBuilder b;
      std::vector<uint8_t> bytes = test::FloatsAs(stored, v);
      // Add edge patterns: infinities, the largest values, subnormals, negative zero, NaN.
      for (uint16_t p : {0x7c00, 0xfc00, 0x7bff, 0x7f7f, 0x0001, 0x8000, 0x03ff, 0x7e01}) {
        bytes.push_back(static_cast<uint8_t>(p));
        bytes.push_back(static_cast<uint8_t>(p >> 8));
      }
      const uint64_t n = bytes.size() / 2;
      b.AddRawTensor("t", dtype, {n}, bytes, stored);
      const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
      ASSERT_EQ(out.size(), 1u);
      ASSERT_EQ(out[0].data.size(), n * DTypeSize(dtype));
      for (uint64_t i = 0; i < n; ++i) {
        const float wide = test::RefLoad(stored, bytes.data(), i);
        uint8_t expect[4];
        test::RefStoreAs(wide, dtype, expect);
        if (std::isnan(wide)) {
          EXPECT_TRUE(std::isnan(test::RefLoad(dtype, out[0].data.data(), i))) << i;
          continue;
        }
        EXPECT_EQ(0, std::memcmp(expect, out[0].data.data() + i * DTypeSize(dtype), DTypeSize(dtype)))
            << DTypeName(stored) << "->" << DTypeName(dtype) << " element " << i << " value " << wide;
      }
    }
}

// Scalar tensors decode to float(code - Q) * scale rounded to the dtype (spec §8.3), for every output dtype,
// both scale dtypes, bits 2..8, and group sizes that do and do not divide the row (cols 100, groups 0, 7,
// 32, 100, 128); codes span the whole range 0..2Q.
TEST(Decoder, ScalarMatchesReferenceRule) {
  const uint64_t rows = 3, cols = 100;
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16})
    for (DType scale_dtype : {DType::kF16, DType::kF32})
      for (int bits = 2; bits <= 8; ++bits)
        for (uint32_t group : {0u, 7u, 32u, 100u, 128u}) {
          const int q = (1 << (bits - 1)) - 1;
          const uint64_t gpr = group == 0 ? 1 : (cols + group - 1) / group;
          std::vector<uint8_t> codes(rows * cols), scales(rows * gpr * DTypeSize(scale_dtype));
          for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<uint8_t>((i * 7 + bits) % (2 * q + 1));
          const std::vector<float> sv = test::Gaussian(rows * gpr, bits * 1000 + group, 0.1);
          for (size_t i = 0; i < sv.size(); ++i)
            test::RefStoreAs(std::fabs(sv[i]), scale_dtype, scales.data() + i * DTypeSize(scale_dtype));
          FileBuilder b;
          b.AddScalarTensor("w", dtype, {rows, cols}, bits, group, scale_dtype, scales, codes);
          const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
          ASSERT_EQ(out.size(), 1u);
          EXPECT_EQ(out[0].data, test::RefDequantizeScalar(rows, cols, bits, group, scale_dtype, scales, codes, dtype))
              << DTypeName(dtype) << " scales " << DTypeName(scale_dtype) << " bits " << bits << " group " << group;
        }
}

// Scalar arithmetic is plain binary32: subnormal products are kept (no flush to zero), overflow gives inf,
// and a -0.0 scale is accepted (spec §8.3).
TEST(Decoder, ScalarSubnormalOverflowAndNegativeZero) {
  std::vector<uint8_t> scales(12);
  StoreLE32(scales.data(), test::Bits(std::numeric_limits<float>::denorm_min() * 3));  // subnormal scale
  StoreLE32(scales.data() + 4, test::Bits(3e38f));
  StoreLE32(scales.data() + 8, 0x80000000u);  // -0.0
  std::vector<uint8_t> codes = {127 + 1, 127 - 2, 127 + 2, 127 - 127, 127 + 5, 127};
  FileBuilder b;
  b.AddScalarTensor("w", DType::kF32, {3, 2}, 8, 0, DType::kF32, scales, codes);
  const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
  ASSERT_EQ(out.size(), 1u);
  auto at = [&](int i) { return test::Le32(out[0].data.data() + 4 * i); };
  EXPECT_EQ(at(0), 3u);           // 1 * 3 * denorm_min
  EXPECT_EQ(at(1), 0x80000006u);  // -2 * 3 * denorm_min
  EXPECT_EQ(at(2), 0x7f800000u);  // 2 * 3e38 overflows to +inf
  EXPECT_EQ(at(3), 0xff800000u);  // -127 * 3e38
  EXPECT_EQ(at(4), 0x80000000u);  // 5 * -0.0 = -0.0
  EXPECT_EQ(at(5), 0x80000000u);  // 0 * -0.0 = -0.0
}

// Scalar tensors of 0-d, 1-d and empty shapes ([0], [3,0], [0,5]) decode to the right number of elements.
TEST(Decoder, ScalarDegenerateShapes) {
  for (const std::vector<uint64_t>& shape : kShapes) {
    const uint64_t numel = test::Numel(shape);
    const std::vector<float> v = test::Gaussian(numel, 3);
    FileBuilder b;
    b.AddQuantizedTensor("w", DType::kBF16, shape, v, 5, 2);
    const std::vector<DecodedTensor> out = DecodeAllOrDie(b.Build());
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].shape, shape);
    EXPECT_EQ(out[0].data.size(), numel * 2);
  }
}

// Decoding does not depend on the thread count: a tensor large enough for the parallel loop gives the same
// bytes with 1 and 2 threads.
TEST(Decoder, ScalarIsThreadCountIndependent) {
  const uint64_t rows = 300, cols = 301;
  const std::vector<float> v = test::Gaussian(rows * cols, 11);
  FileBuilder b;
  b.AddQuantizedTensor("w", DType::kF16, {rows, cols}, v, 6, 64);
  const std::vector<uint8_t> file = b.Build();
  const int saved = test::MaxThreads();
  test::SetThreads(1);
  const std::vector<DecodedTensor> one = DecodeAllOrDie(file);
  test::SetThreads(2);
  const std::vector<DecodedTensor> two = DecodeAllOrDie(file);
  test::SetThreads(saved);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(two.size(), 1u);
  EXPECT_EQ(one[0].data, two[0].data);
}

// Tensors are decoded side by side; with several bad ones, Verify and DecodeAll report the first in
// manifest order, whatever the thread count and whichever thread finishes first.
TEST(Decoder, FirstFailureInManifestOrderForAnyThreadCount) {
  FileBuilder b;
  for (int i = 0; i < 8; ++i)
    b.AddQuantizedTensor("t" + std::to_string(i), DType::kF32, {40, 50}, test::Gaussian(2000, 20 + i), 4, 0);
  const std::vector<uint8_t> file = test::Rewrite(b.Build(), [](test::FileParts& p) {
    for (int i : {3, 5, 6}) p.manifest.tensors[i]->xxh64 ^= 1;
  });
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(OpenBytes(file, &d).ok());
  const int saved = test::MaxThreads();
  for (int threads : {1, 2, 4}) {
    test::SetThreads(threads);
    for (int rep = 0; rep < 10; ++rep) {
      const Status v = d->Verify();
      EXPECT_EQ(v.code(), StatusCode::kChecksumMismatch) << v.ToString();
      EXPECT_NE(v.message().find("'t3'"), std::string::npos) << threads << ": " << v.ToString();
      std::vector<DecodedTensor> tensors;
      std::vector<DecodedAsset> assets;
      const Status all = d->DecodeAll(&tensors, &assets);
      EXPECT_NE(all.message().find("'t3'"), std::string::npos) << threads << ": " << all.ToString();
      EXPECT_TRUE(tensors.empty());
    }
  }
  test::SetThreads(saved);
}

// Zstd sections may hold several frames, frames without a content size and skippable frames (spec §5).
TEST(Decoder, ZstdFrameVariants) {
  const std::vector<uint8_t> part1(500, 'a'), part2(300, 'b');
  const std::vector<uint8_t> whole = test::Concat({part1, part2});
  auto frame = [](const std::vector<uint8_t>& src, bool content_size) {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, content_size ? 1 : 0);
    std::vector<uint8_t> out(ZSTD_compressBound(src.size()));
    out.resize(ZSTD_compress2(c, out.data(), out.size(), src.data(), src.size()));
    ZSTD_freeCCtx(c);
    return out;
  };
  const std::vector<uint8_t> skippable = {0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9};
  const std::vector<uint8_t> stored = test::Concat({frame(part1, true), skippable, frame(part2, false)});

  test::FileParts p = test::Split(FileBuilder().Build());
  auto s = std::make_unique<fb::SectionT>();
  s->kind = fb::SectionKind::Asset;
  s->codec = fb::Codec::Zstd;
  s->stored_size = stored.size();
  s->raw_size = whole.size();
  s->xxh64 = test::Hash(stored);
  p.manifest.sections.push_back(std::move(s));
  auto a = std::make_unique<fb::AssetT>();
  a->name = "multi";
  a->data = 0;
  p.manifest.assets.push_back(std::move(a));
  p.data = stored;
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(OpenBytes(test::Join(p), &d).ok());
  DecodedAsset asset;
  Status st = d->DecodeAsset(0, &asset);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(asset.name, "multi");
  EXPECT_EQ(asset.data, whole);

  // Declaring one byte more or less than the frames hold is corrupt (exact-size decoding).
  for (int delta : {-1, 1}) {
    p.manifest.sections[0]->raw_size = whole.size() + delta;
    ASSERT_TRUE(OpenBytes(test::Join(p), &d).ok());
    st = d->DecodeAsset(0, &asset);
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << delta << ": " << st.ToString();
    EXPECT_NE(st.message().find("zstd"), std::string::npos) << st.ToString();
  }
}

// Aligned files: every section's absolute offset is a multiple of the alignment, the gaps are counted as
// padding, and the tensors decode.
TEST(Decoder, AlignedFile) {
  for (uint32_t align : {2u, 64u, 4096u}) {
    FileBuilder b;
    b.SetAlignment(align);
    const std::vector<float> v = test::Gaussian(33 * 17, 2);
    b.AddQuantizedTensor("w", DType::kF32, {33, 17}, v, 3, 0);
    b.AddRawTensor("r", DType::kU8, {5}, std::vector<uint8_t>{1, 2, 3, 4, 5});
    b.AddAsset("a", std::vector<uint8_t>(77, 1));
    std::vector<uint8_t> file = b.Build();
    std::unique_ptr<Decoder> d;
    Status s = OpenBytes(file, &d);
    ASSERT_TRUE(s.ok()) << s.ToString();
    const Container& c = d->container();
    uint64_t stored = 0;
    for (uint32_t i = 0; i < c.section_count(); ++i) {
      EXPECT_EQ((c.data_start() + c.section(i).offset()) % align, 0u) << "section " << i;
      stored += c.section(i).stored_size();
    }
    EXPECT_EQ(c.data_start() + stored + c.padding_bytes(), c.file_size());
    EXPECT_GT(c.padding_bytes(), 0u);
    EXPECT_TRUE(d->Verify().ok());
  }
}

// Assets come back byte for byte, by index, with their names.
TEST(Decoder, Assets) {
  FileBuilder b;
  const std::vector<uint8_t> x = test::RandomBytes(1000, 1), y(0);
  b.AddAsset("tokenizer.json", x, fb::Codec::Raw);
  b.AddAsset("empty", y);
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(OpenBytes(b.Build(), &d).ok());
  ASSERT_EQ(d->asset_count(), 2u);
  DecodedAsset a;
  ASSERT_TRUE(d->DecodeAsset(0, &a).ok());
  EXPECT_EQ(a.name, "tokenizer.json");
  EXPECT_EQ(a.data, x);
  ASSERT_TRUE(d->DecodeAsset(1, &a).ok());
  EXPECT_EQ(a.name, "empty");
  EXPECT_TRUE(a.data.empty());
}

// A bank no tensor uses is checked by Verify and by VerifyBanks (which `sdcodec decode` calls, so that
// "every hash matches" is true), not by DecodeAll, which reads the banks its tensors use (finding 9).
TEST(Decoder, UnusedBanksAreCheckedByVerifyBanks) {
  for (bool bad_hash : {false, true}) {
    FileBuilder b;
    b.AddRawTensor("r", DType::kU8, {1}, std::vector<uint8_t>{1});
    const float entry = bad_hash ? 2.0f : std::numeric_limits<float>::quiet_NaN();
    b.AddBankValues(std::vector<float>{0, 1, entry, 3}, 2, 2, DType::kF32);
    std::vector<uint8_t> file = b.Build();
    if (bad_hash) file = test::Rewrite(file, [](test::FileParts& p) { p.manifest.sections[1]->xxh64 ^= 1; });
    std::unique_ptr<Decoder> d;
    ASSERT_TRUE(OpenBytes(file, &d).ok());
    std::vector<DecodedTensor> tensors;
    std::vector<DecodedAsset> assets;
    EXPECT_TRUE(d->DecodeAll(&tensors, &assets).ok());
    const StatusCode want = bad_hash ? StatusCode::kChecksumMismatch : StatusCode::kCorrupt;
    const Status banks = d->VerifyBanks();
    EXPECT_EQ(banks.code(), want) << banks.ToString();
    EXPECT_EQ(d->Verify().code(), want);
  }
}

// A shape whose [ulong] elements are only 4-aligned is valid (spec §4.3 rule 7: the verifier does not check
// them) and decodes like any other; reading them with an aligned load would be undefined behaviour, which
// the sanitizer build of this test catches (found by fuzz_container).
TEST(Decoder, UnalignedShapeElements) {
  FileBuilder b;
  const std::vector<uint8_t> bytes = {1, 2, 3, 4, 5, 6};
  b.AddRawTensor("r", DType::kU8, {2, 3}, bytes);
  const std::vector<uint8_t> file = b.Build();
  test::FileParts parts = test::Split(file);
  std::vector<uint8_t> m(file.begin() + kHeaderSize, file.begin() + kHeaderSize + parts.header.manifest_stored_size);
  ASSERT_EQ(parts.header.manifest_codec, ManifestCodec::kRaw);
  // Copy the shape vector to the end of the manifest, its elements at 4 mod 8, and point the tensor at it.
  const uint8_t* base = m.data();
  const auto* t = reinterpret_cast<const uint8_t*>(fb::GetManifest(base)->tensors()->Get(0));
  const uint8_t* vtable = t - static_cast<int32_t>(LoadLE32(t));
  const size_t field = static_cast<size_t>(t - base) + LoadLE16(vtable + 4 + 2 * 1);  // field id 1: shape
  m.resize((m.size() + 7) / 8 * 8);
  const size_t vec = m.size();
  m.resize(vec + 4 + 16);
  StoreLE32(m.data() + vec, 2);
  StoreLE64(m.data() + vec + 4, 2);
  StoreLE64(m.data() + vec + 12, 3);
  StoreLE32(m.data() + field, static_cast<uint32_t>(vec - field));
  std::unique_ptr<Decoder> d;
  const Status s = OpenBytes(test::JoinManifestBytes(m, parts.data), &d);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(reinterpret_cast<uintptr_t>(d->container().manifest().tensors()->Get(0)->shape()->Data()) % 8, 0u);
  DecodedTensor out;
  ASSERT_TRUE(d->DecodeTensor(0, &out).ok());
  EXPECT_EQ(out.shape, (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(out.data, bytes);
}

// Out-of-range indices are caller errors, and a missing file is an i/o error.
TEST(Decoder, ApiErrors) {
  FileBuilder b;
  b.AddRawTensor("r", DType::kU8, {1}, std::vector<uint8_t>{1});
  std::unique_ptr<Decoder> d;
  ASSERT_TRUE(OpenBytes(b.Build(), &d).ok());
  DecodedTensor t;
  DecodedAsset a;
  EXPECT_EQ(d->DecodeTensor(1, &t).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d->DecodeAsset(0, &a).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Decoder::OpenFile("/nonexistent/dir/x.sdc", DecodeLimits(), &d).code(), StatusCode::kIoError);
}

// Each DecodeLimits field is enforced when the file is opened, with kLimitExceeded (or kCorrupt for names,
// as spec §10 says), and a file exactly at a limit is accepted.
TEST(Decoder, LimitsAreEnforcedAtOpen) {
  FileBuilder b;
  b.AddRawTensor("first", DType::kF32, {2, 3}, std::vector<uint8_t>(24, 1));
  b.AddRawTensor("second", DType::kU8, {1, 1, 1, 10}, std::vector<uint8_t>(10, 2));
  b.AddAsset("asset", std::vector<uint8_t>(50, 3));
  const std::vector<uint8_t> file = b.Build();
  struct Case {
    const char* what;
    DecodeLimits limits;
    StatusCode code;
    const char* message;
  };
  auto with = [](auto set) {
    DecodeLimits l;
    set(l);
    return l;
  };
  const uint64_t manifest_size = LoadLE64(file.data() + 24);
  const Case cases[] = {
      {"manifest", with([&](DecodeLimits& l) { l.max_manifest_bytes = manifest_size - 1; }), StatusCode::kLimitExceeded,
       "manifest:"},
      {"sections", with([](DecodeLimits& l) { l.max_sections = 2; }), StatusCode::kLimitExceeded,
       "3 sections exceed the limit of 2"},
      {"tensors", with([](DecodeLimits& l) { l.max_tensors = 1; }), StatusCode::kLimitExceeded,
       "2 tensors exceed the limit of 1"},
      {"assets", with([](DecodeLimits& l) { l.max_assets = 0; }), StatusCode::kLimitExceeded,
       "1 assets exceed the limit of 0"},
      {"rank", with([](DecodeLimits& l) { l.max_rank = 3; }), StatusCode::kLimitExceeded,
       "rank 4 exceeds the limit of 3"},
      {"section raw", with([](DecodeLimits& l) { l.max_section_raw_bytes = 49; }), StatusCode::kLimitExceeded,
       "raw size 50 exceeds"},
      {"tensor bytes", with([](DecodeLimits& l) { l.max_tensor_bytes = 23; }), StatusCode::kLimitExceeded,
       "tensor 'first': shape overflows or exceeds"},
      {"total output", with([](DecodeLimits& l) { l.max_total_output_bytes = 83; }), StatusCode::kLimitExceeded,
       "asset 'asset': total output exceeds"},
      {"total tensors", with([](DecodeLimits& l) { l.max_total_output_bytes = 33; }), StatusCode::kLimitExceeded,
       "tensor 'second': total output exceeds"},
      {"name", with([](DecodeLimits& l) { l.max_name_bytes = 5; }), StatusCode::kCorrupt,
       "name empty or longer than 5"},
  };
  for (const Case& c : cases) {
    std::unique_ptr<Decoder> d;
    Status s = OpenBytes(file, &d, c.limits);
    EXPECT_EQ(s.code(), c.code) << c.what << ": " << s.ToString();
    EXPECT_NE(s.message().find(c.message), std::string::npos) << c.what << ": " << s.ToString();
  }
  // Exactly at every limit: accepted.
  DecodeLimits exact;
  exact.max_manifest_bytes = manifest_size;
  exact.max_sections = 3;
  exact.max_tensors = 2;
  exact.max_assets = 1;
  exact.max_rank = 4;
  exact.max_section_raw_bytes = 50;
  exact.max_tensor_bytes = 24;
  exact.max_total_output_bytes = 84;
  exact.max_name_bytes = 6;
  std::unique_ptr<Decoder> d;
  Status s = OpenBytes(file, &d, exact);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace sdc
