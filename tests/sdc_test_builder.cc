#include "tests/sdc_test_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "format/checksum.h"
#include "format/endian.h"
#include "format/zstd_codec.h"
#include "tests/test_util.h"

namespace sdc::test {
namespace {

std::vector<uint8_t> PackManifest(const fb::ManifestT& m, bool force_defaults) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceDefaults(force_defaults);
  fbb.Finish(fb::Manifest::Pack(fbb, &m), fb::ManifestIdentifier());
  return std::vector<uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

// Header for a stored manifest, hash included, followed by the manifest and the data area.
std::vector<uint8_t> Assemble(ManifestCodec codec, std::span<const uint8_t> stored, uint64_t raw_size,
                              std::span<const uint8_t> data) {
  FileHeader h;
  h.manifest_codec = codec;
  h.manifest_stored_size = stored.size();
  h.manifest_raw_size = raw_size;
  std::vector<uint8_t> file(kHeaderSize);
  EncodeHeader(h, file.data());
  h.xxh64 = HeaderHash(std::span<const uint8_t>(file).first(kHeaderHashedPrefix), stored);
  EncodeHeader(h, file.data());
  file.insert(file.end(), stored.begin(), stored.end());
  file.insert(file.end(), data.begin(), data.end());
  return file;
}

std::unique_ptr<fb::TensorT> NewTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape) {
  auto t = std::make_unique<fb::TensorT>();
  t->name = name;
  t->dtype = static_cast<fb::DType>(dtype);
  t->shape = std::move(shape);
  t->role = fb::Role::Other;
  return t;
}

}  // namespace

uint32_t FileBuilder::AddSection(fb::SectionKind kind, std::span<const uint8_t> raw, fb::Codec codec) {
  Pending p{kind, codec, raw.size(), {}};
  if (codec == fb::Codec::Zstd) {
    p.stored = ZstdCompress(raw, 3);
    EXPECT_FALSE(raw.size() > 0 && p.stored.empty()) << "zstd failed";
  } else {
    p.stored.assign(raw.begin(), raw.end());
  }
  sections_.push_back(std::move(p));
  return static_cast<uint32_t>(sections_.size() - 1);
}

fb::TensorT& FileBuilder::AddRawTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                       std::span<const uint8_t> stored, DType stored_dtype, fb::Codec codec) {
  auto t = NewTensor(name, dtype, std::move(shape));
  fb::RawRepT rep;
  rep.data = AddSection(fb::SectionKind::TensorData, stored, codec);
  rep.stored_dtype = static_cast<fb::DType>(stored_dtype);
  if (stored_dtype == dtype) {
    t->xxh64 = Hash(stored);
  } else {
    const size_t n = stored.size() / DTypeSize(stored_dtype);
    std::vector<uint8_t> out(n * DTypeSize(dtype));
    for (size_t i = 0; i < n; ++i)
      RefStoreAs(RefLoad(stored_dtype, stored.data(), i), dtype, out.data() + i * DTypeSize(dtype));
    t->xxh64 = Hash(out);
  }
  t->rep.Set(std::move(rep));
  manifest_.tensors.push_back(std::move(t));
  return *manifest_.tensors.back();
}

fb::TensorT& FileBuilder::AddScalarTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape, int bits,
                                          uint32_t group_size, DType scale_dtype, std::span<const uint8_t> scales,
                                          std::span<const uint8_t> codes, fb::Codec codec) {
  const uint64_t cols = shape.empty() ? 1 : shape.back();
  const uint64_t rows = cols == 0 ? Numel(std::vector<uint64_t>(shape.begin(), shape.end() - 1)) : Numel(shape) / cols;
  auto t = NewTensor(name, dtype, std::move(shape));
  fb::ScalarRepT rep;
  rep.bits = static_cast<uint8_t>(bits);
  rep.group_size = group_size;
  rep.scale_dtype = static_cast<fb::DType>(scale_dtype);
  rep.scales = AddSection(fb::SectionKind::Scales, scales, codec);
  rep.codes = AddSection(fb::SectionKind::Codes, codes, codec);
  t->xxh64 = Hash(RefDequantizeScalar(rows, cols, bits, group_size, scale_dtype, scales, codes, dtype));
  t->rep.Set(std::move(rep));
  manifest_.tensors.push_back(std::move(t));
  return *manifest_.tensors.back();
}

fb::TensorT& FileBuilder::AddQuantizedTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                             std::span<const float> values, int bits, uint32_t group_size,
                                             fb::Codec codec) {
  const uint64_t cols = shape.empty() ? 1 : shape.back();
  const uint64_t rows = cols == 0 ? 0 : values.size() / cols;
  const uint64_t group = group_size == 0 ? cols : group_size;
  const uint64_t gpr = cols == 0 ? 0 : (cols + group - 1) / group;
  const int q = (1 << (bits - 1)) - 1;
  std::vector<uint8_t> scales(rows * gpr * 2), codes(rows * cols);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t g = 0; g < gpr; ++g) {
      const uint64_t c0 = g * group, c1 = std::min(cols, c0 + group);
      float amax = 0;
      for (uint64_t c = c0; c < c1; ++c) amax = std::max(amax, std::fabs(values[r * cols + c]));
      const uint16_t h = RefFloatToHalf(amax / static_cast<float>(q));
      StoreLE16(scales.data() + 2 * (r * gpr + g), h);
      const float s = RefHalfToFloat(h);
      for (uint64_t c = c0; c < c1; ++c) {
        long k = s == 0 ? 0 : std::lround(values[r * cols + c] / s);
        k = std::clamp<long>(k, -q, q);
        codes[r * cols + c] = static_cast<uint8_t>(k + q);
      }
    }
  return AddScalarTensor(name, dtype, std::move(shape), bits, group_size, DType::kF16, scales, codes, codec);
}

void FileBuilder::AddAsset(const std::string& name, std::span<const uint8_t> bytes, fb::Codec codec) {
  auto a = std::make_unique<fb::AssetT>();
  a->name = name;
  a->data = AddSection(fb::SectionKind::Asset, bytes, codec);
  manifest_.assets.push_back(std::move(a));
}

std::vector<uint8_t> FileBuilder::Build() {
  const uint64_t align = manifest_.alignment > 1 ? manifest_.alignment : 1;
  const bool zstd = manifest_zstd_ && align == 1;  // an aligned manifest must not change size with offsets
  uint64_t manifest_stored = 0;
  std::vector<uint8_t> raw, stored;
  uint64_t data_size = 0;
  for (int pass = 0; pass < 8; ++pass) {
    const uint64_t data_start = kHeaderSize + manifest_stored;
    manifest_.sections.clear();
    uint64_t pos = data_start;
    for (const Pending& p : sections_) {
      pos = (pos + align - 1) / align * align;
      auto s = std::make_unique<fb::SectionT>();
      s->kind = p.kind;
      s->codec = p.codec;
      s->offset = pos - data_start;
      s->stored_size = p.stored.size();
      s->raw_size = p.raw_size;
      s->xxh64 = Hash(p.stored);
      manifest_.sections.push_back(std::move(s));
      pos += p.stored.size();
    }
    data_size = pos - data_start;
    raw = PackManifest(manifest_, align > 1);
    stored = zstd ? ZstdCompress(raw, 19) : raw;
    if (align == 1 || stored.size() == manifest_stored) break;
    manifest_stored = stored.size();
  }
  EXPECT_TRUE(align == 1 || stored.size() == manifest_stored) << "aligned manifest size did not settle";
  std::vector<uint8_t> data(data_size, 0);
  for (size_t i = 0; i < sections_.size(); ++i)
    std::copy(sections_[i].stored.begin(), sections_[i].stored.end(), data.begin() + manifest_.sections[i]->offset);
  return Assemble(zstd ? ManifestCodec::kZstd : ManifestCodec::kRaw, stored, raw.size(), data);
}

FileParts Split(std::span<const uint8_t> file) {
  FileParts p;
  Status s = ParseHeader(file, &p.header);
  if (!s.ok()) {
    ADD_FAILURE() << "Split: " << s.ToString();
    return p;
  }
  std::span<const uint8_t> stored = file.subspan(kHeaderSize, p.header.manifest_stored_size);
  std::vector<uint8_t> raw(stored.begin(), stored.end());
  if (p.header.manifest_codec == ManifestCodec::kZstd) {
    s = ZstdDecompressExact(stored, p.header.manifest_raw_size, &raw);
    if (!s.ok()) {
      ADD_FAILURE() << "Split: " << s.ToString();
      return p;
    }
  }
  fb::GetManifest(raw.data())->UnPackTo(&p.manifest);
  p.data.assign(file.begin() + kHeaderSize + p.header.manifest_stored_size, file.end());
  return p;
}

std::vector<uint8_t> Join(const FileParts& parts, bool zstd) {
  std::vector<uint8_t> raw = PackManifest(parts.manifest, false);
  if (zstd) {
    std::vector<uint8_t> z = ZstdCompress(raw, 19);
    return Assemble(ManifestCodec::kZstd, z, raw.size(), parts.data);
  }
  return Assemble(ManifestCodec::kRaw, raw, raw.size(), parts.data);
}

std::vector<uint8_t> JoinManifestBytes(std::span<const uint8_t> manifest, std::span<const uint8_t> data) {
  return Assemble(ManifestCodec::kRaw, manifest, manifest.size(), data);
}

std::vector<uint8_t> Rewrite(std::span<const uint8_t> file, const std::function<void(FileParts&)>& edit) {
  FileParts p = Split(file);
  edit(p);
  return Join(p);
}

std::span<uint8_t> SectionBytes(FileParts& parts, uint32_t i) {
  const fb::SectionT& s = *parts.manifest.sections.at(i);
  return std::span<uint8_t>(parts.data).subspan(s.offset, s.stored_size);
}

void ReplaceSectionBytes(FileParts& parts, uint32_t i, std::span<const uint8_t> stored) {
  std::span<uint8_t> dst = SectionBytes(parts, i);
  ASSERT_EQ(dst.size(), stored.size());
  std::copy(stored.begin(), stored.end(), dst.begin());
  parts.manifest.sections[i]->xxh64 = Hash(stored);
}

void Rehash(std::vector<uint8_t>& file) {
  const uint64_t stored = LoadLE64(file.data() + 16);
  const uint64_t h = HeaderHash(std::span<const uint8_t>(file).first(kHeaderHashedPrefix),
                                std::span<const uint8_t>(file).subspan(kHeaderSize, stored));
  StoreLE64(file.data() + 32, h);
}

void PatchRepType(std::vector<uint8_t>& file, uint32_t index, uint8_t rep_type) {
  ASSERT_EQ(file[12], 0) << "PatchRepType needs a raw manifest";
  const uint64_t stored = LoadLE64(file.data() + 16);
  std::vector<uint8_t> m(file.begin() + kHeaderSize, file.begin() + kHeaderSize + stored);
  const fb::Tensor* t = fb::GetManifest(m.data())->tensors()->Get(index);
  // Tensor derives privately from flatbuffers::Table; a C-style cast may name an inaccessible base.
  const uint8_t* field = ((const flatbuffers::Table*)t)->GetAddressOf(fb::Tensor::VT_REP_TYPE);
  ASSERT_NE(field, nullptr);
  file[kHeaderSize + (field - m.data())] = rep_type;
  Rehash(file);
}

}  // namespace sdc::test
