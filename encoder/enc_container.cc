#include "encoder/enc_container.h"

#include "decoder/dec_container.h"
#include "encoder/enc_rans.h"
#include "encoder/enc_zstd.h"

#include "format/asset_names.h"
#include "format/checksum.h"
#include "format/header.h"
#include "format/printable.h"

namespace sdc {

SectionData MakeSection(fb::SectionKind kind, std::span<const uint8_t> raw, int zstd_level, int rans_symbol_bytes) {
  SectionData s;
  s.kind = kind;
  s.raw_size = raw.size();
  s.stored.assign(raw.begin(), raw.end());
  if (raw.empty()) return s;
  auto consider = [&](fb::Codec codec, std::vector<uint8_t> bytes) {
    if (!bytes.empty() && bytes.size() < s.stored.size()) {
      s.codec = codec;
      s.stored = std::move(bytes);
    }
  };
  if (rans_symbol_bytes == 1 || (rans_symbol_bytes == 2 && raw.size() % 2 == 0)) {
    const int lanes = RansLanesFor(raw.size() / rans_symbol_bytes);
    consider(RansCodecFor(rans_symbol_bytes, lanes), RansEncode(raw, rans_symbol_bytes, lanes));
  }
  if (zstd_level == 0) return s;
  // Symbol streams: zstd only pays where they repeat (rows of an untrained embedding, say); a level-1 probe
  // that loses to rANS means the slow high-level pass would lose too, and the rate search prices many
  // candidates, so skip it then.
  if (rans_symbol_bytes != 0 && zstd_level > 1 && ZstdCompress(raw, 1).size() >= s.stored.size()) return s;
  consider(fb::Codec::Zstd, ZstdCompress(raw, zstd_level));
  return s;
}

uint32_t ContainerBuilder::AddSection(SectionData section) {
  sections_.push_back(std::move(section));
  return static_cast<uint32_t>(sections_.size() - 1);
}

void ContainerBuilder::AddAsset(const std::string& name, uint32_t section) {
  auto a = std::make_unique<fb::AssetT>();
  a->name = name;
  a->data = section;
  manifest_.assets.push_back(std::move(a));
}

uint32_t ContainerBuilder::AddBank(uint32_t section, uint32_t k, uint32_t dim) {
  auto bank = std::make_unique<fb::BankT>();
  bank->data = section;
  bank->k = k;
  bank->dim = static_cast<uint8_t>(dim);
  bank->entry_dtype = fb::DType::F16;
  manifest_.banks.push_back(std::move(bank));
  return static_cast<uint32_t>(manifest_.banks.size() - 1);
}

void ContainerBuilder::AddMetadata(const std::string& key, const std::string& value) {
  auto kv = std::make_unique<fb::KeyValueT>();
  kv->key = key;
  kv->value = value;
  manifest_.metadata.push_back(std::move(kv));
}

// Without alignment the sections are packed and the manifest is zstd-compressed when that is smaller;
// offsets are relative to the end of the manifest, so they are known before the manifest is.
// With alignment, each section's absolute offset must be a multiple of it: the manifest is then stored
// uncompressed with every field written (ForceDefaults), so its size does not depend on the offset values,
// and a first pass measures it.
Status ContainerBuilder::Finish(std::vector<uint8_t>* file) {
  const uint64_t align = manifest_.alignment > 1 ? manifest_.alignment : 1;
  SDC_CHECK((align & (align - 1)) == 0 && align <= 4096, StatusCode::kInvalidArgument,
            "alignment must be a power of two up to 4096");
  // Never write a file our own decoder refuses: asset names are a format rule (spec §6).
  for (const auto& a : manifest_.assets)
    if (const std::string problem = AssetNameProblem(a->name); !problem.empty())
      return Error(StatusCode::kInvalidArgument,
                   "asset name '" + Printable(a->name) + "' " + problem + " (an asset name must be one file name)");
  auto serialize = [&](uint64_t data_start, flatbuffers::FlatBufferBuilder* fbb) {
    manifest_.sections.clear();
    uint64_t pos = data_start;  // absolute
    for (const SectionData& s : sections_) {
      pos = (pos + align - 1) / align * align;
      auto fs = std::make_unique<fb::SectionT>();
      fs->kind = s.kind;
      fs->codec = s.codec;
      fs->offset = pos - data_start;
      fs->stored_size = s.stored.size();
      fs->raw_size = s.raw_size;
      fs->xxh64 = Xxh64(s.stored);
      manifest_.sections.push_back(std::move(fs));
      pos += s.stored.size();
    }
    fbb->ForceDefaults(align > 1);
    fbb->Finish(fb::Manifest::Pack(*fbb, &manifest_), fb::ManifestIdentifier());
    return pos - data_start;
  };
  flatbuffers::FlatBufferBuilder fbb;
  uint64_t data_size = serialize(kHeaderSize, &fbb);
  std::vector<uint8_t> raw(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  std::vector<uint8_t> stored = raw;
  if (align > 1) {
    flatbuffers::FlatBufferBuilder second;
    data_size = serialize(kHeaderSize + raw.size(), &second);
    SDC_CHECK(second.GetSize() == raw.size(), StatusCode::kInternal, "aligned manifest changed size");
    raw.assign(second.GetBufferPointer(), second.GetBufferPointer() + second.GetSize());
    stored = raw;
  } else {
    // Level 19: the manifest is small, and its names compress well.
    std::vector<uint8_t> z = ZstdCompress(raw, 19);
    if (!z.empty() && z.size() < raw.size()) stored = std::move(z);
  }

  FileHeader h;
  h.manifest_codec = stored.size() < raw.size() ? ManifestCodec::kZstd : ManifestCodec::kRaw;
  h.manifest_stored_size = stored.size();
  h.manifest_raw_size = raw.size();
  const size_t data_start = kHeaderSize + stored.size();
  std::vector<uint8_t> out(data_start + data_size, 0);
  EncodeHeader(h, out.data());
  h.xxh64 = HeaderHash(std::span<const uint8_t>(out).first(kHeaderHashedPrefix), stored);
  EncodeHeader(h, out.data());
  std::copy(stored.begin(), stored.end(), out.begin() + kHeaderSize);
  for (size_t i = 0; i < sections_.size(); ++i)
    std::copy(sections_[i].stored.begin(), sections_[i].stored.end(),
              out.begin() + data_start + manifest_.sections[i]->offset);
  *file = std::move(out);
  return Status::Ok();
}

}  // namespace sdc
