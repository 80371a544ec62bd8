#include "fuzz/fix_hashes.h"

#include <algorithm>

#include "decoder/decoder.h"
#include "encoder/enc_zstd.h"
#include "format/checksum.h"
#include "format/header.h"
#include "format/zstd_codec.h"

namespace sdc::fuzz {
namespace {

// Manifests above this are left alone: fuzz inputs are small, and a hostile header size must not make the
// mutator itself allocate.
constexpr uint64_t kMaxManifest = 4u << 20;

struct Layout {
  FileHeader header;
  std::vector<uint8_t> manifest;  // decoded, 8-byte aligned storage
};

bool Load(const std::vector<uint8_t>& file, Layout* out) {
  if (!ParseHeader(file, &out->header).ok()) return false;
  const FileHeader& h = out->header;
  if (h.manifest_raw_size > kMaxManifest) return false;
  std::span<const uint8_t> stored = std::span<const uint8_t>(file).subspan(kHeaderSize, h.manifest_stored_size);
  if (h.manifest_codec == ManifestCodec::kZstd)
    return ZstdDecompressExact(stored, h.manifest_raw_size, &out->manifest).ok();
  out->manifest.assign(stored.begin(), stored.end());
  return true;
}

bool Verified(const std::vector<uint8_t>& manifest) {
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 16;
  opts.max_tables = 1u << 20;
  opts.check_alignment = true;
  flatbuffers::Verifier v(manifest.data(), manifest.size(), opts);
  return fb::VerifyManifestBuffer(v);
}

// Writes `manifest` as the file's manifest (recompressing a zstd one) and sets the header hash.
void Store(std::vector<uint8_t>* file, Layout* l) {
  FileHeader& h = l->header;
  std::vector<uint8_t> stored = l->manifest;
  if (h.manifest_codec == ManifestCodec::kZstd) {
    stored = ZstdCompress(l->manifest, 1);
    h.manifest_raw_size = l->manifest.size();
  }
  const std::span<const uint8_t> area = std::span<const uint8_t>(*file).subspan(kHeaderSize + h.manifest_stored_size);
  std::vector<uint8_t> out(kHeaderSize + stored.size() + area.size());
  std::copy(stored.begin(), stored.end(), out.begin() + kHeaderSize);
  std::copy(area.begin(), area.end(), out.begin() + kHeaderSize + stored.size());
  h.manifest_stored_size = stored.size();
  EncodeHeader(h, out.data());
  h.xxh64 = HeaderHash(std::span<const uint8_t>(out).first(kHeaderHashedPrefix), stored);
  EncodeHeader(h, out.data());
  *file = std::move(out);
}

// Where table `t`'s 8-byte field `field` lies in `buf`, or null when the table has no such field or it would
// not lie wholly inside `buf`. Resolved before anything is written: in a hostile manifest tables may overlap,
// so one table's hash field can be another's vtable offset, and a write would move where that one's field is.
// (Generated tables derive from flatbuffers::Table privately; the object is the table.)
template <typename T>
uint8_t* FieldAt(const T* table, flatbuffers::voffset_t field, std::vector<uint8_t>& buf) {
  const auto* t = reinterpret_cast<const flatbuffers::Table*>(table);
  const flatbuffers::voffset_t at = t->GetOptionalFieldOffset(field);
  if (at == 0) return nullptr;
  const uint8_t* p = reinterpret_cast<const uint8_t*>(t) + at;
  if (p < buf.data() || p + sizeof(uint64_t) > buf.data() + buf.size()) return nullptr;
  return buf.data() + (p - buf.data());
}

// Writes each (place, hash); true if any byte changed.
bool WriteHashes(const std::vector<std::pair<uint8_t*, uint64_t>>& writes) {
  bool changed = false;
  for (const auto& [p, h] : writes) {
    changed |= flatbuffers::ReadScalar<uint64_t>(p) != h;
    flatbuffers::WriteScalar<uint64_t>(p, h);
  }
  return changed;
}

void FixSectionHashes(const std::vector<uint8_t>& file, Layout* l) {
  fb::Manifest* m = fb::GetMutableManifest(l->manifest.data());
  if (!m->sections()) return;
  const uint64_t data_start = kHeaderSize + l->header.manifest_stored_size;
  const uint64_t data_size = file.size() - data_start;
  // Read everything (hashes and the places of their fields) first, write after (FieldAt).
  auto* sections = m->mutable_sections();
  std::vector<std::pair<uint8_t*, uint64_t>> writes;
  for (uint32_t i = 0; i < sections->size(); ++i) {
    const fb::Section* s = sections->GetMutableObject(i);
    if (s->offset() > data_size || s->stored_size() > data_size - s->offset()) continue;
    uint8_t* p = FieldAt(s, fb::Section::VT_XXH64, l->manifest);
    if (p)
      writes.push_back({p, Xxh64(std::span<const uint8_t>(file).subspan(data_start + s->offset(), s->stored_size()))});
  }
  WriteHashes(writes);
}

bool FixTensorHashes(const std::vector<uint8_t>& file, Layout* l) {
  DecodeLimits limits;  // as fuzz_decode: a mutated file must not make the mutator allocate much
  limits.max_section_raw_bytes = 16u << 20;
  limits.max_tensor_bytes = 16u << 20;
  limits.max_total_output_bytes = 64u << 20;
  Container c;
  if (!Container::Open(file, limits, &c).ok() || !c.manifest().tensors()) return false;
  fb::Manifest* m = fb::GetMutableManifest(l->manifest.data());
  std::vector<std::pair<uint8_t*, uint64_t>> writes;  // all read before any is written (FieldAt)
  for (uint32_t i = 0; i < c.manifest().tensors()->size(); ++i) {
    std::vector<uint8_t> out;
    uint8_t* p = FieldAt(m->mutable_tensors()->GetMutableObject(i), fb::Tensor::VT_XXH64, l->manifest);
    if (p && ReconstructUnchecked(c, i, &out).ok()) writes.push_back({p, Xxh64(out)});
  }
  return WriteHashes(writes);
}

}  // namespace

void FixHashes(std::vector<uint8_t>* file) {
  Layout l;
  if (!Load(*file, &l)) {
    // The header may still parse: fixing its hash lets the checks behind it (a zstd manifest that does not
    // decode, say) run.
    FileHeader h;
    if (ParseHeader(*file, &h).ok()) {
      const std::span<const uint8_t> f(*file);
      h.xxh64 = HeaderHash(f.first(kHeaderHashedPrefix), f.subspan(kHeaderSize, h.manifest_stored_size));
      EncodeHeader(h, file->data());
    }
    return;
  }
  if (Verified(l.manifest)) FixSectionHashes(*file, &l);
  Store(file, &l);
  if (Verified(l.manifest) && FixTensorHashes(*file, &l)) Store(file, &l);
}

bool Unpack(const std::vector<uint8_t>& file, fb::ManifestT* manifest, std::vector<uint8_t>* data, bool* zstd) {
  Layout l;
  if (!Load(file, &l) || !Verified(l.manifest)) return false;
  // The object API reads a shape's [ulong] elements with aligned loads, and a valid manifest may hold them
  // 4-aligned (spec §4.3): such files are left to the byte-level mutations.
  const fb::Manifest* m = fb::GetManifest(l.manifest.data());
  if (m->tensors())
    for (const fb::Tensor* t : *m->tensors())
      if (t->shape() && reinterpret_cast<uintptr_t>(t->shape()->Data()) % 8 != 0) return false;
  m->UnPackTo(manifest);
  data->assign(file.begin() + kHeaderSize + l.header.manifest_stored_size, file.end());
  *zstd = l.header.manifest_codec == ManifestCodec::kZstd;
  return true;
}

std::vector<uint8_t> Pack(const fb::ManifestT& manifest, const std::vector<uint8_t>& data, bool zstd) {
  flatbuffers::FlatBufferBuilder fbb;
  fbb.Finish(fb::Manifest::Pack(fbb, &manifest), fb::ManifestIdentifier());
  Layout l;
  l.manifest.assign(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  l.header.manifest_codec = zstd ? ManifestCodec::kZstd : ManifestCodec::kRaw;
  l.header.manifest_stored_size = 0;
  l.header.manifest_raw_size = l.manifest.size();
  std::vector<uint8_t> file(kHeaderSize + data.size());
  std::copy(data.begin(), data.end(), file.begin() + kHeaderSize);
  Store(&file, &l);
  return file;
}

}  // namespace sdc::fuzz
