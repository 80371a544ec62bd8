#include "encoder/encoder.h"

#include <cmath>
#include <set>
#include <string_view>

#include "decoder/dec_container.h"
#include "encoder/enc_assemble.h"
#include "encoder/enc_fit.h"
#include "encoder/enc_plan.h"

namespace sdc {

double TensorSummary::snr_db() const {
  if (sse == 0) return INFINITY;
  return 10.0 * std::log10(signal / sse);
}

namespace {

// Calibration data must name tensors of the input: a misspelt name would silently lose its effect.
Status CheckCalibrationNames(const SafetensorsFile& in, const EncodeOptions& o) {
  std::set<std::string_view> names;
  for (const TensorView& t : in.tensors) names.insert(t.name);
  for (const auto& [name, h] : o.hessians)
    SDC_CHECK(names.count(name), StatusCode::kInvalidArgument,
              "Hessian for '" + name + "': no such tensor in the input");
  for (const auto& [name, f] : o.sensitivity)
    SDC_CHECK(names.count(name), StatusCode::kInvalidArgument,
              "sensitivity for '" + name + "': no such tensor in the input");
  return Status::Ok();
}

Status EncodeUnchecked(const SafetensorsFile& in, const EncodeOptions& o, EncodeResult* out) {
  SDC_RETURN_IF_ERROR(CheckEncodeOptions(o));
  SDC_RETURN_IF_ERROR(CheckCalibrationNames(in, o));
  SharedBanks shared;
  if (o.method == Method::kCodebook && !o.per_tensor_banks) SDC_RETURN_IF_ERROR(TrainSharedBanks(in, o, &shared));
  std::vector<PlannedTensor> plan(in.tensors.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    if (o.progress)
      o.progress("[" + std::to_string(i + 1) + "/" + std::to_string(plan.size()) + "] " + in.tensors[i].name);
    SDC_RETURN_IF_ERROR(
        PlanTensor(in.tensors[i], o, shared, &plan[i]).WithContext("tensor '" + in.tensors[i].name + "'"));
  }

  if (o.budget == 0 && o.target_snr_db > 0) return FitSnr(plan, in, shared, o, out);
  if (o.budget == 0) return Assemble(plan, std::vector<size_t>(plan.size(), 0), in, shared, o, out);
  uint64_t min_budget = 0;
  if (!shared.trained) return FitBudget(plan, in, shared, o, false, out, &min_budget);
  // Shared banks cost bytes only when some tensor uses them, which a per-tensor allocator cannot see: fit
  // once without them and once with their bytes set aside, and keep the file with the smaller error.
  EncodeResult without, with;
  uint64_t min_without = UINT64_MAX, min_with = UINT64_MAX;
  Status a = FitBudget(plan, in, shared, o, false, &without, &min_without);
  Status b = FitBudget(plan, in, shared, o, true, &with, &min_with);
  // Neither fits: name the smaller of the two smallest encodings (a codebook file with shared banks can
  // be the smaller one).
  if (!a.ok() && !b.ok()) return b.code() == StatusCode::kBudget && min_with < min_without ? b : a;
  const bool use_with = b.ok() && (!a.ok() || TotalError(with) < TotalError(without));
  *out = std::move(use_with ? with : without);
  return Status::Ok();
}

}  // namespace

Status Encode(const SafetensorsFile& in, const EncodeOptions& o, EncodeResult* out) {
  SDC_RETURN_IF_ERROR(EncodeUnchecked(in, o, out));
  Container check;
  Status s = Container::Open(out->file, DecodeLimits(), &check);
  if (!s.ok()) {
    out->file.clear();
    return Error(StatusCode::kInvalidArgument, "the input cannot be stored: " + s.message());
  }
  return Status::Ok();
}

}  // namespace sdc
