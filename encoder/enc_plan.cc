#include "encoder/enc_plan.h"

#include <fnmatch.h>

#include <list>

#include "encoder/enc_candidates.h"
#include "encoder/enc_distortion.h"
#include "encoder/enc_feedback.h"
#include "encoder/enc_hessian.h"
#include "encoder/enc_input.h"
#include "encoder/enc_scalar_search.h"
#include "encoder/enc_search_space.h"
#include "format/roles.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

uint64_t NumelOf(const TensorView& t) {
  uint64_t numel = 0;
  // The safetensors reader and the API front ends have checked every shape: this cannot overflow.
  if (!CheckedNumel(t.shape, UINT64_MAX, &numel)) return 0;
  return numel;
}

bool Quantizable(const TensorView& t, const EncodeOptions& o) {
  return o.method != Method::kRaw && IsLossyCodable(t.dtype) && t.shape.size() >= 2 && NumelOf(t) >= o.min_quant_numel;
}

}  // namespace

Status TrainSharedBanks(const SafetensorsFile& in, const EncodeOptions& o, SharedBanks* shared) {
  std::list<std::vector<float>> values, importance;  // a list: the inputs' spans must stay valid
  std::vector<CodebookInput> inputs;
  for (const TensorView& t : in.tensors) {
    std::vector<float> w;
    if (!Quantizable(t, o) || !ToFiniteFloats(t, &w) || w.empty()) continue;
    std::vector<float> imp;
    if (o.importance.count(t.name))
      SDC_RETURN_IF_ERROR(ExpandImportance(t, w, NumelOf(t), o, &imp).WithContext("tensor '" + t.name + "'"));
    values.push_back(std::move(w));
    importance.push_back(std::move(imp));
    inputs.push_back({values.back(), RowsOf(t.shape), importance.back()});
  }
  if (inputs.empty()) return Status::Ok();
  CodebookSearch search = o.codebook;
  if (o.progress)
    search.progress = [&o, n = inputs.size()](const std::string& msg) {
      o.progress("shared banks (" + std::to_string(n) + " tensors): " + msg);
    };
  SDC_RETURN_IF_ERROR(TrainBanks(inputs, search, &shared->banks));
  for (const auto& e : shared->banks.entries)
    shared->sections.push_back(MakeSection(fb::SectionKind::Bank, SerializeBank(e), o.zstd_level));
  shared->trained = true;
  return Status::Ok();
}

std::pair<Role, uint8_t> ChooseRole(const TensorView& t, const EncodeOptions& o) {
  for (const RoleOverride& r : o.roles)
    if (fnmatch(r.pattern.c_str(), t.name.c_str(), 0) == 0) return {r.role, 1};
  return {InferRole(t.name, t.shape), 0};
}

Status PlanTensor(const TensorView& t, const EncodeOptions& o, const SharedBanks& shared, PlannedTensor* p) {
  p->view = &t;
  std::tie(p->role, p->role_source) = ChooseRole(t, o);
  p->numel = NumelOf(t);
  std::vector<float> w;
  const bool finite = ToFiniteFloats(t, &w);
  const std::span<const float> values = finite ? std::span<const float>(w) : std::span<const float>();
  // Every Hessian given is checked, so a wrong one is refused even where it would go unused (a tensor kept
  // raw); it serves only a tensor that is quantized, and is factored once for it.
  auto h = o.hessians.find(t.name);
  const bool loss_aware = h != o.hessians.end() && finite && Quantizable(t, o) && p->numel > 0;
  if (h != o.hessians.end()) {
    const uint64_t cols = RowsOf(t.shape).cols;
    std::vector<double> checked;
    SDC_RETURN_IF_ERROR(CheckHessian(h->second, cols, &checked).WithContext("Hessian"));
    if (loss_aware) {
      p->hessian = std::move(checked);
      SDC_RETURN_IF_ERROR(FactorHessian(p->hessian, cols, o.damping, o.act_order, &p->factor).WithContext("Hessian"));
    }
  }
  SDC_RETURN_IF_ERROR(MakeErrorMeasure(t, values, p->numel, p->hessian, o, &p->importance, &p->measure));
  // An embedding with a Hessian is the tied head too: its error reaches the loss through the head (what H
  // weighs) and again through every token's input, which no Hessian sees. Without a measured sensitivity it
  // weighs `tied_weight` times (README, loss-aware encoding: measured on stories260K and pg-unique).
  if (p->role == Role::kEmbedding && !p->hessian.empty() && !o.sensitivity.count(t.name))
    p->measure.factor *= o.tied_weight;
  const ErrorMeasure& m = p->measure;
  for (float v : values) p->signal += static_cast<double>(v) * v;
  p->measured_signal = m.Signal(values) * m.factor;
  // An empty tensor has no sub-vectors to train a codebook on or to code: under the codebook method it is
  // stored raw (zero bytes).
  if (!finite || !Quantizable(t, o) || (o.method == Method::kCodebook && p->numel == 0)) {
    p->candidates.resize(1);
    return RawCandidate(t, values, m, o, &p->candidates[0]);
  }
  SDC_RETURN_IF_ERROR(ScalarCandidates(t, w, m, loss_aware && o.feedback ? &p->factor : nullptr, o, &p->candidates));
  if (o.method != Method::kCodebook) return Status::Ok();

  BankSet own;
  const BankSet* banks = &shared.banks;
  if (o.per_tensor_banks) {
    const CodebookInput input{w, RowsOf(t.shape), m.importance};
    SDC_RETURN_IF_ERROR(TrainBanks(std::span<const CodebookInput>(&input, 1), o.codebook, &own));
    banks = &own;
  }
  const std::vector<double> fractions = ResidualFractions(o);
  for (double lambda : CodebookLambdas(o))
    SDC_RETURN_IF_ERROR(CodebookCandidates(t, w, m, *banks, o.per_tensor_banks, lambda, fractions, o, &p->candidates));
  return Status::Ok();
}

}  // namespace sdc
