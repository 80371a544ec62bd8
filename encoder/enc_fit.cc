#include "encoder/enc_fit.h"

#include <cmath>

#include "encoder/enc_assemble.h"
#include "encoder/enc_budget.h"

namespace sdc {

double TotalError(const EncodeResult& r) {
  double e = 0;
  for (const TensorSummary& t : r.tensors) e += t.distortion;
  return e;
}

// Allocate the bytes left after the fixed parts, build, and if the manifest's own size pushed the file over
// the target, take the overshoot off the allocation and try again. The allocator prices section bytes only (a
// candidate's manifest entries are not seen), so when a retry finds nothing, or the loop does not settle, the
// cheapest choice is taken if it fits: every budget at or above the smallest encoding's size succeeds.
Status FitBudget(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
                 const EncodeOptions& o, bool with_shared_banks, EncodeResult* out, uint64_t* min_budget) {
  const uint64_t target = o.budget - o.reserve;
  // Candidate indices offered to the allocator, per tensor.
  std::vector<std::vector<size_t>> offered(plan.size());
  std::vector<std::vector<RatePoint>> choices(plan.size());
  for (size_t i = 0; i < plan.size(); ++i)
    for (size_t k = 0; k < plan[i].candidates.size(); ++k) {
      const Candidate& c = plan[i].candidates[k];
      if (c.rep == fb::Representation::CodebookRep && c.own_banks.empty() && !with_shared_banks) continue;
      offered[i].push_back(k);
      choices[i].push_back({c.bytes(), c.distortion});
    }
  auto to_pick = [&](const std::vector<size_t>& local) {
    std::vector<size_t> pick(plan.size());
    for (size_t i = 0; i < plan.size(); ++i) pick[i] = offered[i][local[i]];
    return pick;
  };
  std::vector<size_t> cheapest(plan.size());
  for (size_t i = 0; i < plan.size(); ++i) cheapest[i] = CheapestChoice(choices[i]);
  // The cheapest choice, built with the budget being asked for: success when it fits, else kBudget naming
  // a size that is itself a feasible budget (the manifest records the budget, so it is measured with the
  // budget set to the size being reported).
  auto fall_back = [&]() -> Status {
    SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(cheapest), in, shared, o, out));
    if (out->file.size() <= target) return Status::Ok();
    EncodeOptions probe = o;
    probe.budget = 0;
    // The budget's digits change the compressed manifest by a byte or so: stop at the first budget the
    // file really fits (each round only raises the budget, so this ends).
    for (int round = 0; round < 8; ++round) {
      SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(cheapest), in, shared, probe, out));
      if (probe.budget > 0 && out->file.size() + o.reserve <= probe.budget) break;
      probe.budget = std::max(probe.budget + 1, out->file.size() + o.reserve);
    }
    *min_budget = probe.budget;
    return Error(StatusCode::kBudget, "budget of " + std::to_string(o.budget) + " bytes (reserve " +
                                          std::to_string(o.reserve) + ") cannot be met: the smallest encoding takes " +
                                          std::to_string(out->file.size()) + " bytes (a budget of at least " +
                                          std::to_string(probe.budget) + ")");
  };
  std::vector<size_t> local(plan.size(), 0);
  SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(local), in, shared, o, out));  // measures the fixed overhead
  uint64_t tensor_bytes = 0;
  for (const TensorSummary& s : out->tensors) tensor_bytes += s.stored_bytes;
  uint64_t overhead = out->file.size() - tensor_bytes;
  if (with_shared_banks)
    for (const SectionData& sec : shared.sections) overhead += sec.stored.size();
  uint64_t available = target > overhead ? target - overhead : 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!AllocateBytes(choices, available, &local)) return fall_back();
    SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(local), in, shared, o, out));
    if (out->file.size() <= target) return Status::Ok();
    // The manifest (compressed) differs a little between choices: take this choice's real overhead, plus
    // a margin that grows with each attempt, so the loop always moves.
    uint64_t chosen = 0;
    for (size_t i = 0; i < plan.size(); ++i) chosen += choices[i][local[i]].bytes;
    const uint64_t real_overhead = out->file.size() - chosen + 16ull * attempt;
    const uint64_t next = target > real_overhead ? target - real_overhead : 0;
    available = std::min(available > 0 ? available - 1 : 0, next);
  }
  return fall_back();
}

// Bisects the byte budget given to the allocator. The SNR is the weight SNR, except over tensors with a
// Hessian, whose error and signal are the layer outputs' (ΔW_r H ΔW_rᵀ against w_r H w_rᵀ, rows weighed as the
// error measure weighs them: enc_distortion.h). Shared banks'
// own bytes are not weighed here (they are stored once if any tensor uses them): a known simplification.
Status FitSnr(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
              const EncodeOptions& o, EncodeResult* out) {
  double signal = 0;
  for (const PlannedTensor& p : plan) signal += p.hessian.empty() ? p.signal : p.measured_signal;
  const double allowed = signal / std::pow(10.0, o.target_snr_db / 10.0);
  std::vector<std::vector<RatePoint>> choices(plan.size());
  uint64_t lo = 0, hi = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    uint64_t most = 0, least = UINT64_MAX;
    for (const Candidate& c : plan[i].candidates) {
      choices[i].push_back({c.bytes(), plan[i].hessian.empty() ? c.sse : c.distortion});
      most = std::max<uint64_t>(most, c.bytes());
      least = std::min<uint64_t>(least, c.bytes());
    }
    lo += least;
    hi += most;
  }
  std::vector<size_t> pick;
  auto error_at = [&](uint64_t bytes) -> double {
    if (!AllocateBytes(choices, bytes, &pick)) return INFINITY;  // (never below lo, the cheapest total)
    double e = 0;
    for (size_t i = 0; i < plan.size(); ++i) e += choices[i][pick[i]].distortion;
    return e;
  };
  SDC_CHECK(error_at(hi) <= allowed, StatusCode::kBudget,
            "target SNR of " + std::to_string(o.target_snr_db) + " dB is above what the candidates reach");
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (error_at(mid) <= allowed)
      hi = mid;
    else
      lo = mid + 1;
  }
  error_at(hi);
  return Assemble(plan, pick, in, shared, o, out);
}

}  // namespace sdc
