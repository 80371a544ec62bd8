#include "decoder/dec_container.h"

#include <string>
#include <unordered_set>

#include <cmath>

#include "decoder/dec_codebook.h"
#include "format/asset_names.h"
#include "format/checksum.h"
#include "format/endian.h"
#include "format/printable.h"
#include "format/rans_codec.h"
#include "format/tensor_layout.h"
#include "format/types.h"
#include "format/zstd_codec.h"

namespace sdc {
namespace {

std::string Sec(uint32_t i) { return "section " + std::to_string(i); }

bool AllZero(std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes)
    if (b != 0) return false;
  return true;
}

}  // namespace

std::vector<uint64_t> ShapeOf(const fb::Tensor& t) {
  std::vector<uint64_t> shape;
  if (const auto* dims = t.shape()) {
    // The elements of a [ulong] need not be 8-aligned (spec §4.3 rule 7; the verifier does not check them),
    // so they are read as bytes: an aligned load through FlatBuffers' accessor would be undefined behaviour.
    const uint8_t* p = dims->Data();
    for (uint32_t i = 0; i < dims->size(); ++i) shape.push_back(LoadLE64(p + 8 * size_t{i}));
  }
  return shape;
}

// A switch, not a table indexed by the value: a byte from the file that names no kind (or a kind added to
// sdc.fbs but not here, which -Wswitch reports) gives "unknown" instead of reading past an array.
const char* SectionKindName(fb::SectionKind kind) {
  switch (kind) {
    case fb::SectionKind::TensorData: return "tensor_data";
    case fb::SectionKind::Scales: return "scales";
    case fb::SectionKind::Codes: return "codes";
    case fb::SectionKind::Asset: return "asset";
    case fb::SectionKind::Bank: return "bank";
    case fb::SectionKind::Indices: return "indices";
    case fb::SectionKind::ResidualPositions: return "residual_positions";
    case fb::SectionKind::ResidualValues: return "residual_values";
  }
  return "unknown";
}

const char* CodecName(fb::Codec codec) {
  switch (codec) {
    case fb::Codec::Raw: return "raw";
    case fb::Codec::Zstd: return "zstd";
    case fb::Codec::Rans8: return "rans8";
    case fb::Codec::Rans16: return "rans16";
    case fb::Codec::Rans8x4: return "rans8x4";
    case fb::Codec::Rans16x4: return "rans16x4";
  }
  return "unknown";
}

const char* RepresentationName(fb::Representation rep) {
  switch (rep) {
    case fb::Representation::RawRep: return "raw";
    case fb::Representation::ScalarRep: return "scalar";
    case fb::Representation::CodebookRep: return "codebook";
    case fb::Representation::NONE: return "none";
  }
  return "unknown";
}

Status Container::Open(std::span<const uint8_t> file, const DecodeLimits& limits, Container* out) {
  return Guarded([&] { return OpenUnguarded(file, limits, out); });
}

Status Container::OpenUnguarded(std::span<const uint8_t> file, const DecodeLimits& limits, Container* out) {
  Container c;
  c.file_ = file;
  c.limits_ = limits;
  SDC_RETURN_IF_ERROR(ParseHeader(file, &c.header_));
  const FileHeader& h = c.header_;
  SDC_CHECK(h.manifest_raw_size <= limits.max_manifest_bytes, StatusCode::kLimitExceeded,
            "manifest: " + std::to_string(h.manifest_raw_size) + " bytes exceeds the limit of " +
                std::to_string(limits.max_manifest_bytes));
  // FlatBuffers 2.0.8 cannot address more than 2 GiB.
  SDC_CHECK(h.manifest_raw_size < (uint64_t{1} << 31), StatusCode::kLimitExceeded,
            "manifest: larger than the FlatBuffers 2 GiB limit");
  std::span<const uint8_t> stored = file.subspan(kHeaderSize, h.manifest_stored_size);
  SDC_CHECK(HeaderHash(file.first(kHeaderHashedPrefix), stored) == h.xxh64, StatusCode::kChecksumMismatch,
            "header/manifest: XXH64 does not match");
  std::span<const uint8_t> manifest = stored;
  if (h.manifest_codec == ManifestCodec::kZstd) {
    SDC_RETURN_IF_ERROR(ZstdDecompressExact(stored, h.manifest_raw_size, &c.manifest_buf_).WithContext("manifest"));
    manifest = c.manifest_buf_;
  } else {
    // Copy so the flatbuffer is aligned for the verifier whatever the file buffer's alignment.
    c.manifest_buf_.assign(stored.begin(), stored.end());
    manifest = c.manifest_buf_;
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = 16;
  opts.max_tables = 4 * (limits.max_sections + limits.max_tensors + limits.max_assets) + 64;
  opts.check_alignment = true;
  flatbuffers::Verifier verifier(manifest.data(), manifest.size(), opts);
  SDC_CHECK(fb::VerifyManifestBuffer(verifier), StatusCode::kCorrupt,
            "manifest: FlatBuffers verification failed (wrong identifier or malformed tables)");
  c.manifest_ = fb::GetManifest(manifest.data());
  SDC_RETURN_IF_ERROR(c.CheckSections());
  SDC_RETURN_IF_ERROR(c.CheckReferences());
  *out = std::move(c);
  return Status::Ok();
}

// Sections are listed in file order and tile the data area exactly: each starts where the previous one
// ended (its absolute offset rounded up to the alignment when one is set, the gap being zero bytes), and
// the last ends at the end of the file. So every byte of the file is covered by the header checks, the manifest hash, a
// section hash or a zero-padding check.
Status Container::CheckSections() {
  const uint32_t n = section_count();
  SDC_CHECK(n <= limits_.max_sections, StatusCode::kLimitExceeded,
            std::to_string(n) + " sections exceed the limit of " + std::to_string(limits_.max_sections));
  const uint32_t align = manifest_->alignment();
  SDC_CHECK(align <= 4096 && (align & (align - 1)) == 0, StatusCode::kCorrupt,
            "manifest: alignment " + std::to_string(align) + " is not 0 or a power of two up to 4096");
  const uint64_t data_size = file_.size() - data_start();
  uint64_t pos = 0;  // relative to data_start
  padding_bytes_ = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const fb::Section& s = section(i);
    SDC_CHECK(s.kind() <= fb::SectionKind::MAX, StatusCode::kUnsupported,
              Sec(i) + ": unknown kind " + std::to_string(static_cast<int>(s.kind())));
    SDC_CHECK(s.codec() <= fb::Codec::MAX, StatusCode::kUnsupported,
              Sec(i) + ": unknown codec " + std::to_string(static_cast<int>(s.codec())));
    SDC_CHECK(s.offset() <= data_size && s.stored_size() <= data_size - s.offset(), StatusCode::kCorrupt,
              Sec(i) + ": offset " + std::to_string(s.offset()) + " + size " + std::to_string(s.stored_size()) +
                  " runs past the end of the file");
    SDC_CHECK(s.offset() >= pos, StatusCode::kCorrupt, Sec(i) + ": overlaps the previous section");
    uint64_t aligned = pos;
    if (align > 1) {  // absolute offsets are aligned; all values are below the file size: no overflow
      const uint64_t abs = data_start() + pos;
      aligned = (abs + align - 1) / align * align - data_start();
    }
    SDC_CHECK(s.offset() == aligned, StatusCode::kCorrupt,
              Sec(i) + ": leaves " + std::to_string(s.offset() - pos) + " unaccounted bytes before it");
    std::span<const uint8_t> gap = file_.subspan(data_start() + pos, s.offset() - pos);
    SDC_CHECK(AllZero(gap), StatusCode::kCorrupt, Sec(i) + ": alignment padding before it is not zero");
    padding_bytes_ += gap.size();
    SDC_CHECK(s.raw_size() <= limits_.max_section_raw_bytes, StatusCode::kLimitExceeded,
              Sec(i) + ": raw size " + std::to_string(s.raw_size()) + " exceeds the limit of " +
                  std::to_string(limits_.max_section_raw_bytes));
    SDC_CHECK(s.codec() != fb::Codec::Raw || s.raw_size() == s.stored_size(), StatusCode::kCorrupt,
              Sec(i) + ": raw codec with differing stored and raw sizes");
    const RansCodec* rans = FindRansCodec(s.codec());
    SDC_CHECK(!rans || s.raw_size() % rans->symbol_bytes == 0, StatusCode::kCorrupt,
              Sec(i) + ": " + CodecName(s.codec()) + " section with an odd raw size");
    pos = s.offset() + s.stored_size();
  }
  SDC_CHECK(pos == data_size, StatusCode::kCorrupt,
            std::to_string(data_size - pos) + " bytes after the last section are not described by the manifest");
  return Status::Ok();
}

namespace {

// Tracks which part of the file refers to each section: every section must be referenced exactly once,
// by a part of the right kind.
class SectionRefs {
 public:
  explicit SectionRefs(const Container& c) : c_(c), used_(c.section_count(), false) {}

  Status Claim(uint32_t index, fb::SectionKind kind, const std::string& who) {
    SDC_CHECK(index < used_.size(), StatusCode::kCorrupt,
              who + ": refers to " + Sec(index) + " of " + std::to_string(used_.size()));
    SDC_CHECK(!used_[index], StatusCode::kCorrupt, who + ": " + Sec(index) + " is already used by another part");
    SDC_CHECK(c_.section(index).kind() == kind, StatusCode::kCorrupt,
              who + ": " + Sec(index) + " is of kind " + SectionKindName(c_.section(index).kind()) + ", expected " +
                  SectionKindName(kind));
    used_[index] = true;
    return Status::Ok();
  }
  Status AllClaimed() const {
    for (size_t i = 0; i < used_.size(); ++i)
      SDC_CHECK(used_[i], StatusCode::kCorrupt,
                Sec(static_cast<uint32_t>(i)) + ": not referenced by any tensor or asset");
    return Status::Ok();
  }

 private:
  const Container& c_;
  std::vector<bool> used_;
};

Status CheckRawRep(const Container& c, const fb::Tensor& t, uint64_t numel, const std::string& who, SectionRefs* refs) {
  const fb::RawRep* rep = t.rep_as_RawRep();
  auto stored = static_cast<uint8_t>(rep->stored_dtype());
  SDC_CHECK(IsValidDType(stored), StatusCode::kUnsupported, who + ": unknown stored dtype");
  DType sd = static_cast<DType>(stored), td = static_cast<DType>(t.dtype());
  SDC_CHECK(sd == td || (IsLossyCodable(td) && (sd == DType::kF16 || sd == DType::kBF16)), StatusCode::kCorrupt,
            who + ": raw storage as " + DTypeName(sd) + " cannot reconstruct " + DTypeName(td));
  SDC_RETURN_IF_ERROR(refs->Claim(rep->data(), fb::SectionKind::TensorData, who));
  SDC_CHECK(c.section(rep->data()).raw_size() == numel * DTypeSize(sd), StatusCode::kCorrupt,
            who + ": data section size does not match shape x stored dtype");
  return Status::Ok();
}

Status CheckScalarRep(const Container& c, const fb::Tensor& t, const std::string& who, SectionRefs* refs) {
  const fb::ScalarRep* rep = t.rep_as_ScalarRep();
  SDC_CHECK(IsLossyCodable(static_cast<DType>(t.dtype())), StatusCode::kCorrupt,
            who + ": scalar representation of a non-float tensor");
  SDC_CHECK(rep->bits() >= 2 && rep->bits() <= 8, StatusCode::kCorrupt,
            who + ": scalar bits " + std::to_string(rep->bits()) + " outside 2..8");
  SDC_CHECK(rep->scale_dtype() == fb::DType::F16 || rep->scale_dtype() == fb::DType::F32, StatusCode::kCorrupt,
            who + ": scale dtype must be F16 or F32");
  RowLayout rl = RowsOf(ShapeOf(t));
  uint64_t scales = rl.rows * GroupsPerRow(rl.cols, rep->group_size());  // <= numel: no overflow
  SDC_RETURN_IF_ERROR(refs->Claim(rep->scales(), fb::SectionKind::Scales, who + " scales"));
  SDC_RETURN_IF_ERROR(refs->Claim(rep->codes(), fb::SectionKind::Codes, who + " codes"));
  SDC_CHECK(c.section(rep->scales()).raw_size() == scales * DTypeSize(static_cast<DType>(rep->scale_dtype())),
            StatusCode::kCorrupt, who + ": scales section size does not match rows x groups");
  SDC_CHECK(c.section(rep->codes()).raw_size() == rl.numel(), StatusCode::kCorrupt,
            who + ": codes section size does not match the element count");
  return Status::Ok();
}

Status CheckCodebookRep(const Container& c, const fb::Tensor& t, uint64_t numel, const std::string& who,
                        SectionRefs* refs) {
  const fb::CodebookRep* rep = t.rep_as_CodebookRep();
  SDC_CHECK(IsLossyCodable(static_cast<DType>(t.dtype())), StatusCode::kCorrupt,
            who + ": codebook representation of a non-float tensor");
  const auto* banks = c.manifest().banks();
  const uint32_t nbanks = banks ? banks->size() : 0;
  const uint32_t m = rep->banks() ? rep->banks()->size() : 0;
  SDC_CHECK(m >= 1 && m <= 8, StatusCode::kCorrupt, who + ": codebook count " + std::to_string(m) + " outside 1..8");
  SDC_CHECK(rep->coefficients() && rep->coefficients()->size() == m && rep->indices() && rep->indices()->size() == m,
            StatusCode::kCorrupt, who + ": needs one coefficient and one index stream per codebook");
  bool wide = false;
  for (uint32_t i = 0; i < m; ++i) {
    const uint32_t b = rep->banks()->Get(i);
    SDC_CHECK(b < nbanks, StatusCode::kCorrupt,
              who + ": refers to bank " + std::to_string(b) + " of " + std::to_string(nbanks));
    SDC_CHECK(banks->Get(b)->dim() == rep->dim(), StatusCode::kCorrupt, who + ": bank dim differs from the tensor's");
    SDC_CHECK(std::isfinite(rep->coefficients()->Get(i)), StatusCode::kCorrupt, who + ": coefficient is not finite");
    wide = wide || banks->Get(b)->k() > 256;
  }
  SDC_CHECK(rep->scale_dtype() == fb::DType::F16 || rep->scale_dtype() == fb::DType::F32, StatusCode::kCorrupt,
            who + ": scale dtype must be F16 or F32");
  SDC_CHECK(rep->group_size() % rep->dim() == 0, StatusCode::kCorrupt, who + ": group size is not a multiple of dim");
  RowLayout rl = RowsOf(ShapeOf(t));
  SDC_RETURN_IF_ERROR(refs->Claim(rep->scales(), fb::SectionKind::Scales, who + " scales"));
  SDC_CHECK(c.section(rep->scales()).raw_size() ==
                rl.rows * GroupsPerRow(rl.cols, rep->group_size()) * DTypeSize(static_cast<DType>(rep->scale_dtype())),
            StatusCode::kCorrupt, who + ": scales section size does not match rows x groups");
  const uint64_t vectors = rl.rows * VectorsPerRow(rl.cols, rep->dim());  // <= numel
  for (uint32_t i = 0; i < m; ++i) {
    SDC_RETURN_IF_ERROR(refs->Claim(rep->indices()->Get(i), fb::SectionKind::Indices, who + " indices"));
    SDC_CHECK(c.section(rep->indices()->Get(i)).raw_size() == vectors * (wide ? 2 : 1), StatusCode::kCorrupt,
              who + ": index section size does not match rows x vectors per row");
  }
  if (const fb::SparseResidual* r = rep->residual()) {
    SDC_CHECK(r->count() <= numel && std::isfinite(r->step()), StatusCode::kCorrupt,
              who + ": residual count exceeds the element count or its step is not finite");
    SDC_RETURN_IF_ERROR(refs->Claim(r->positions(), fb::SectionKind::ResidualPositions, who + " residual positions"));
    SDC_RETURN_IF_ERROR(refs->Claim(r->values(), fb::SectionKind::ResidualValues, who + " residual values"));
    const uint64_t pos_size = c.section(r->positions()).raw_size();
    SDC_CHECK(pos_size >= r->count() && pos_size <= r->count() * 10 && c.section(r->values()).raw_size() == r->count(),
              StatusCode::kCorrupt, who + ": residual section sizes do not match the count");
  }
  return Status::Ok();
}

Status CheckBanks(const Container& c, const DecodeLimits& limits, SectionRefs* refs) {
  const auto* banks = c.manifest().banks();
  const uint32_t n = banks ? banks->size() : 0;
  SDC_CHECK(n <= limits.max_banks, StatusCode::kLimitExceeded,
            std::to_string(n) + " banks exceed the limit of " + std::to_string(limits.max_banks));
  for (uint32_t i = 0; i < n; ++i) {
    const fb::Bank& b = *banks->Get(i);
    const std::string who = "bank " + std::to_string(i);
    SDC_CHECK(b.k() >= 1 && b.k() <= 65536, StatusCode::kCorrupt, who + ": k outside 1..65536");
    SDC_CHECK(b.dim() >= 1 && b.dim() <= 16, StatusCode::kCorrupt, who + ": dim outside 1..16");
    SDC_CHECK(b.entry_dtype() == fb::DType::F16 || b.entry_dtype() == fb::DType::F32, StatusCode::kCorrupt,
              who + ": entry dtype must be F16 or F32");
    SDC_RETURN_IF_ERROR(refs->Claim(b.data(), fb::SectionKind::Bank, who));
    SDC_CHECK(
        c.section(b.data()).raw_size() == uint64_t{b.k()} * b.dim() * DTypeSize(static_cast<DType>(b.entry_dtype())),
        StatusCode::kCorrupt, who + ": section size does not match k x dim");
  }
  return Status::Ok();
}

}  // namespace

// Tensors and assets: names, shapes, limits, and the sections each part refers to.
Status Container::CheckReferences() {
  const auto* tensors = manifest_->tensors();
  const uint32_t n = tensors ? tensors->size() : 0;
  SDC_CHECK(n <= limits_.max_tensors, StatusCode::kLimitExceeded,
            std::to_string(n) + " tensors exceed the limit of " + std::to_string(limits_.max_tensors));
  SectionRefs refs(*this);
  SDC_RETURN_IF_ERROR(CheckBanks(*this, limits_, &refs));
  std::unordered_set<std::string_view> names;
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const fb::Tensor& t = *tensors->Get(i);
    std::string_view name(t.name()->c_str(), t.name()->size());
    std::string who = "tensor " + std::to_string(i);
    SDC_CHECK(!name.empty() && name.size() <= limits_.max_name_bytes, StatusCode::kCorrupt,
              who + ": name empty or longer than " + std::to_string(limits_.max_name_bytes) + " bytes");
    who = "tensor '" + Printable(name) + "'";
    SDC_CHECK(names.insert(name).second, StatusCode::kCorrupt, who + ": duplicate name");
    SDC_CHECK(IsValidDType(static_cast<uint8_t>(t.dtype())), StatusCode::kUnsupported, who + ": unknown dtype");
    SDC_CHECK(IsValidRole(static_cast<uint8_t>(t.role())), StatusCode::kUnsupported, who + ": unknown role");
    SDC_CHECK(t.role_source() <= 1, StatusCode::kCorrupt, who + ": role_source is neither 0 nor 1");
    const uint64_t rank = t.shape() ? t.shape()->size() : 0;
    SDC_CHECK(rank <= limits_.max_rank, StatusCode::kLimitExceeded,
              who + ": rank " + std::to_string(rank) + " exceeds the limit of " + std::to_string(limits_.max_rank));
    const std::vector<uint64_t> shape = ShapeOf(t);
    uint64_t numel;
    const uint64_t elem = DTypeSize(static_cast<DType>(t.dtype()));
    SDC_CHECK(CheckedNumel(shape, limits_.max_tensor_bytes / elem, &numel), StatusCode::kLimitExceeded,
              who + ": shape overflows or exceeds the tensor limit of " + std::to_string(limits_.max_tensor_bytes) +
                  " bytes");
    total += numel * elem;
    SDC_CHECK(total <= limits_.max_total_output_bytes, StatusCode::kLimitExceeded,
              who + ": total output exceeds the limit of " + std::to_string(limits_.max_total_output_bytes) + " bytes");
    switch (t.rep_type()) {
      case fb::Representation::RawRep: SDC_RETURN_IF_ERROR(CheckRawRep(*this, t, numel, who, &refs)); break;
      case fb::Representation::ScalarRep: SDC_RETURN_IF_ERROR(CheckScalarRep(*this, t, who, &refs)); break;
      case fb::Representation::CodebookRep: SDC_RETURN_IF_ERROR(CheckCodebookRep(*this, t, numel, who, &refs)); break;
      case fb::Representation::NONE: return Error(StatusCode::kCorrupt, who + ": no representation");
      default:
        return Error(StatusCode::kUnsupported,
                     who + ": unknown representation " + std::to_string(static_cast<int>(t.rep_type())));
    }
  }
  const auto* assets = manifest_->assets();
  const uint32_t na = assets ? assets->size() : 0;
  SDC_CHECK(na <= limits_.max_assets, StatusCode::kLimitExceeded,
            std::to_string(na) + " assets exceed the limit of " + std::to_string(limits_.max_assets));
  std::unordered_set<std::string_view> asset_names;
  for (uint32_t i = 0; i < na; ++i) {
    const fb::Asset& a = *assets->Get(i);
    std::string_view name(a.name()->c_str(), a.name()->size());
    std::string who = "asset '" + Printable(name) + "'";
    SDC_CHECK(!name.empty() && name.size() <= limits_.max_name_bytes, StatusCode::kCorrupt,
              "asset " + std::to_string(i) + ": name empty or too long");
    // Asset names become file names (decode --assets-dir): one safe path component (spec §6).
    const std::string problem = AssetNameProblem(name);
    SDC_CHECK(problem.empty(), StatusCode::kCorrupt, who + ": name " + problem);
    SDC_CHECK(asset_names.insert(name).second, StatusCode::kCorrupt, who + ": duplicate name");
    SDC_RETURN_IF_ERROR(refs.Claim(a.data(), fb::SectionKind::Asset, who));
    total += section(a.data()).raw_size();
    SDC_CHECK(total <= limits_.max_total_output_bytes, StatusCode::kLimitExceeded,
              who + ": total output exceeds the limit of " + std::to_string(limits_.max_total_output_bytes) + " bytes");
  }
  return refs.AllClaimed();
}

std::span<const uint8_t> Container::StoredBytes(uint32_t i) const {
  const fb::Section& s = section(i);
  return file_.subspan(data_start() + s.offset(), s.stored_size());
}

Status Container::VerifySectionChecksum(uint32_t i) const {
  SDC_CHECK(Xxh64(StoredBytes(i)) == section(i).xxh64(), StatusCode::kChecksumMismatch,
            Sec(i) + " (" + SectionKindName(section(i).kind()) + "): XXH64 does not match");
  return Status::Ok();
}

Status Container::ReadSection(uint32_t i, std::vector<uint8_t>* raw) const {
  SDC_RETURN_IF_ERROR(VerifySectionChecksum(i));
  std::span<const uint8_t> stored = StoredBytes(i);
  if (const RansCodec* r = FindRansCodec(section(i).codec()))
    return RansDecodeExact(stored, r->symbol_bytes, r->lanes, section(i).raw_size(), raw).WithContext(Sec(i));
  switch (section(i).codec()) {
    case fb::Codec::Raw: raw->assign(stored.begin(), stored.end()); return Status::Ok();
    case fb::Codec::Zstd: return ZstdDecompressExact(stored, section(i).raw_size(), raw).WithContext(Sec(i));
    default: break;
  }
  return Error(StatusCode::kUnsupported, Sec(i) + ": unknown codec");
}

}  // namespace sdc
