#include "encoder/enc_assemble.h"

#include <memory>

namespace sdc {
namespace {

std::string Describe(const Candidate& c) {
  if (c.rep == fb::Representation::ScalarRep) return "scalar";
  if (c.rep == fb::Representation::CodebookRep) return "codebook";
  return "raw";
}

// Informative settings string of the manifest. The budget itself is in Manifest.budget_bytes; keeping it out
// of this string keeps the file's size from depending on how many digits the budget has.
std::string EncoderString(const EncodeOptions& o) {
  std::string enc = "sdcodec " SDCODEC_VERSION_STRING "; method=" + std::string(MethodName(o.method));
  if (o.method == Method::kCodebook)
    enc += "; k=" + std::to_string(o.codebook.k) + "; dim=" + std::to_string(o.codebook.dim) +
           "; codebooks=" + std::to_string(o.codebook.codebooks) +
           "; banks=" + (o.per_tensor_banks ? "per-tensor" : "shared");
  if (o.target_snr_db > 0)
    enc += "; target_snr_db=" + std::to_string(o.target_snr_db);
  else
    enc += "; bits=" + std::to_string(o.bits);
  enc += "; group=" + std::to_string(o.group_size) + "; zstd=" + std::to_string(o.zstd_level);
  if (o.raw_cast) enc += std::string("; raw_cast=") + DTypeName(*o.raw_cast);
  return enc;
}

}  // namespace

Status Assemble(const std::vector<PlannedTensor>& plan, const std::vector<size_t>& pick, const SafetensorsFile& in,
                const SharedBanks& shared, const EncodeOptions& o, EncodeResult* out) {
  ContainerBuilder b;
  out->tensors.clear();
  // Shared banks go in once, and only when some tensor chose them.
  std::vector<uint32_t> shared_ids;
  bool shared_used = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Candidate& c = plan[i].candidates[pick[i]];
    shared_used = shared_used || (c.rep == fb::Representation::CodebookRep && c.own_banks.empty());
  }
  if (shared_used)
    for (const SectionData& sec : shared.sections)
      shared_ids.push_back(b.AddBank(b.AddSection(sec), shared.banks.k, shared.banks.dim));
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedTensor& p = plan[i];
    const Candidate& c = p.candidates[pick[i]];
    auto t = std::make_unique<fb::TensorT>();
    t->name = p.view->name;
    t->shape = p.view->shape;
    t->dtype = static_cast<fb::DType>(p.view->dtype);
    t->role = static_cast<fb::Role>(p.role);
    t->role_source = p.role_source;
    t->xxh64 = c.recon_xxh64;
    TensorSummary s{p.view->name, p.role, Describe(c), 0, p.numel, c.bytes(), c.sse, c.distortion, p.signal};
    t->snr_db = static_cast<float>(s.snr_db());
    if (c.rep == fb::Representation::RawRep) {
      fb::RawRepT r;
      r.data = b.AddSection(*c.data);
      r.stored_dtype = static_cast<fb::DType>(c.stored_dtype);
      if (c.stored_dtype != p.view->dtype) s.representation = std::string("raw(") + DTypeName(c.stored_dtype) + ")";
      t->rep.Set(std::move(r));
    } else if (c.rep == fb::Representation::CodebookRep) {
      fb::CodebookRepT r;
      r.dim = static_cast<uint8_t>(c.cb_layout.dim);
      r.coefficients = c.coefficients;
      r.scale_dtype = static_cast<fb::DType>(c.cb_layout.scale_dtype);
      r.group_size = c.cb_layout.group_size;
      r.scales = b.AddSection(*c.scales);
      for (const SectionData& idx : c.indices) r.indices.push_back(b.AddSection(idx));
      if (c.own_banks.empty()) {
        r.banks = shared_ids;
      } else {
        for (const SectionData& bank : c.own_banks)
          r.banks.push_back(b.AddBank(b.AddSection(bank), o.codebook.k, c.cb_layout.dim));
      }
      if (c.residual) {
        auto res = std::make_unique<fb::SparseResidualT>();
        res->count = c.residual->count;
        res->positions = b.AddSection(c.residual->positions);
        res->values = b.AddSection(c.residual->values);
        res->step = c.residual->step;
        r.residual = std::move(res);
      }
      t->rep.Set(std::move(r));
    } else {
      fb::ScalarRepT r;
      r.bits = static_cast<uint8_t>(c.layout.bits);
      r.group_size = c.layout.group_size;
      r.scale_dtype = static_cast<fb::DType>(c.layout.scale_dtype);
      r.scales = b.AddSection(*c.scales);
      r.codes = b.AddSection(*c.codes);
      s.bits = c.layout.bits;
      t->rep.Set(std::move(r));
    }
    b.AddTensor(std::move(t));
    out->tensors.push_back(std::move(s));
  }
  for (const AssetInput& a : o.assets)
    b.AddAsset(a.name, b.AddSection(MakeSection(fb::SectionKind::Asset, a.data, o.zstd_level)));
  for (const auto& [k, v] : in.metadata) b.AddMetadata(k, v);
  b.SetEncoder(EncoderString(o));
  b.SetBudget(o.budget);
  b.SetAlignment(o.alignment);
  return b.Finish(&out->file);
}

}  // namespace sdc
