#include "tests/sdc_test_builder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "decoder/dec_container.h"
#include "encoder/enc_rans.h"
#include "encoder/enc_zstd.h"
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
  } else if (const RansCodec* r = FindRansCodec(codec)) {
    EXPECT_EQ(raw.size() % r->symbol_bytes, 0u) << "rans16 needs an even raw size";
    p.stored = RansEncode(raw, r->symbol_bytes, r->lanes);
    EXPECT_FALSE(raw.size() > 0 && p.stored.empty()) << "rans failed";
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

uint32_t FileBuilder::AddBank(std::span<const uint8_t> entries, uint32_t k, uint32_t dim, DType entry_dtype,
                              fb::Codec codec) {
  auto bank = std::make_unique<fb::BankT>();
  bank->data = AddSection(fb::SectionKind::Bank, entries, codec);
  bank->k = k;
  bank->dim = static_cast<uint8_t>(dim);
  bank->entry_dtype = static_cast<fb::DType>(entry_dtype);
  manifest_.banks.push_back(std::move(bank));
  banks_.push_back(RefBankOf(entries, k, dim, entry_dtype));
  return static_cast<uint32_t>(manifest_.banks.size() - 1);
}

uint32_t FileBuilder::AddBankValues(std::span<const float> values, uint32_t k, uint32_t dim, DType entry_dtype,
                                    fb::Codec codec) {
  return AddBank(FloatsAs(entry_dtype, values), k, dim, entry_dtype, codec);
}

std::vector<uint8_t> FileBuilder::ReferenceCodebook(DType dtype, const std::vector<uint64_t>& shape,
                                                    const CodebookSpec& spec) const {
  const uint64_t cols = shape.empty() ? 1 : shape.back();
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= shape[i];
  std::vector<const RefBank*> banks;
  for (uint32_t b : spec.banks) {
    if (b >= banks_.size()) return {};
    banks.push_back(&banks_[b]);
  }
  const RefResidual residual{spec.residual_count, spec.positions, spec.values, spec.step};
  std::vector<uint8_t> out;
  if (!RefDequantizeCodebook(rows, cols, spec.dim, banks, spec.coefficients, spec.group_size, spec.scale_dtype,
                             spec.scales, spec.indices, spec.residual ? &residual : nullptr, dtype, &out))
    return {};
  return out;
}

fb::TensorT& FileBuilder::AddCodebookTensor(const std::string& name, DType dtype, std::vector<uint64_t> shape,
                                            const CodebookSpec& spec) {
  const uint64_t numel = Numel(shape);
  const std::vector<uint8_t> recon = ReferenceCodebook(dtype, shape, spec);
  EXPECT_TRUE(numel == 0 || !recon.empty()) << name << ": the reference rule refuses this codebook tensor";
  auto t = NewTensor(name, dtype, std::move(shape));
  fb::CodebookRepT rep;
  rep.dim = static_cast<uint8_t>(spec.dim);
  rep.banks = spec.banks;
  rep.coefficients = spec.coefficients;
  rep.scale_dtype = static_cast<fb::DType>(spec.scale_dtype);
  rep.group_size = spec.group_size;
  rep.scales = AddSection(fb::SectionKind::Scales, spec.scales, spec.scales_codec);
  for (size_t m = 0; m < spec.indices.size(); ++m)
    rep.indices.push_back(AddSection(fb::SectionKind::Indices, spec.indices[m],
                                     m < spec.index_codecs.size() ? spec.index_codecs[m] : fb::Codec::Raw));
  if (spec.residual) {
    auto r = std::make_unique<fb::SparseResidualT>();
    r->count = spec.residual_count;
    r->positions = AddSection(fb::SectionKind::ResidualPositions, spec.positions, spec.positions_codec);
    r->values = AddSection(fb::SectionKind::ResidualValues, spec.values, spec.values_codec);
    r->step = spec.step;
    rep.residual = std::move(r);
  }
  t->xxh64 = Hash(recon);
  t->rep.Set(std::move(rep));
  manifest_.tensors.push_back(std::move(t));
  return *manifest_.tensors.back();
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

void ResizeSection(FileParts& parts, uint32_t i, std::span<const uint8_t> stored, uint64_t raw_size) {
  ASSERT_LE(parts.manifest.alignment, 1u) << "ResizeSection needs a packed file";
  fb::SectionT& s = *parts.manifest.sections.at(i);
  const uint64_t old_size = s.stored_size;
  std::vector<uint8_t> data(parts.data.begin(), parts.data.begin() + s.offset);
  data.insert(data.end(), stored.begin(), stored.end());
  data.insert(data.end(), parts.data.begin() + s.offset + old_size, parts.data.end());
  parts.data = std::move(data);
  for (size_t j = i + 1; j < parts.manifest.sections.size(); ++j)
    parts.manifest.sections[j]->offset = parts.manifest.sections[j]->offset - old_size + stored.size();
  s.stored_size = stored.size();
  s.raw_size = raw_size;
  s.xxh64 = Hash(stored);
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
