#include "report/plan_solve.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace sdc {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kNames[] = {"dim", "hidden", "layers", "unique-layers"};

// The shape with the solved parameter at its k-th value (k >= 1); false when that value is not representable.
bool ShapeAt(const ModelShape& base, const SolveRequest& r, double ratio, uint64_t k, ModelShape* s) {
  *s = base;
  switch (r.what) {
    case SolveFor::kDim: {
      if (__builtin_mul_overflow(k, base.heads, &s->dim)) return false;
      const double hidden = std::llround(ratio * static_cast<double>(s->dim));
      if (!(hidden < 9.0e18)) return false;
      s->hidden = std::max<uint64_t>(1, static_cast<uint64_t>(hidden));
      return true;
    }
    case SolveFor::kHidden: s->hidden = k; return true;
    case SolveFor::kLayers: s->layers = k; return true;
    case SolveFor::kUniqueLayers: s->unique_layers = k; return true;
  }
  return false;
}

}  // namespace

std::optional<SolveFor> ParseSolveFor(const std::string& name) {
  for (int i = 0; i < 4; ++i)
    if (name == kNames[i]) return static_cast<SolveFor>(i);
  return std::nullopt;
}

const char* SolveForName(SolveFor s) { return kNames[static_cast<int>(s)]; }

Status Solve(const ModelShape& shape, const MeasuredRates& rates, const SolveRequest& r, Json* out) {
  SDC_CHECK(r.budget > 0, StatusCode::kInvalidArgument, "plan: --budget must be positive");
  SDC_CHECK(r.what != SolveFor::kLayers || shape.unique_layers == 0, StatusCode::kInvalidArgument,
            "plan: with --unique-layers fixed, more layers cost no bytes (they reuse the unique blocks): "
            "solve unique-layers instead");
  double ratio = r.mlp_ratio;
  if (r.what == SolveFor::kDim && ratio <= 0) {
    SDC_CHECK(shape.dim > 0 && shape.hidden > 0, StatusCode::kInvalidArgument,
              "plan: solving dim needs --mlp-ratio, or --dim and --hidden to take the ratio from");
    ratio = static_cast<double>(shape.hidden) / static_cast<double>(shape.dim);
  }
  const uint64_t bound = r.what == SolveFor::kUniqueLayers ? shape.layers : std::numeric_limits<uint64_t>::max();
  // The plan and its total at the k-th value; false where the value cannot be planned (it overflows).
  auto plan_at = [&](uint64_t k, Json* p) {
    ModelShape s;
    return ShapeAt(shape, r, ratio, k, &s) && Plan(s, rates, p).ok();
  };
  auto fits = [&](uint64_t k) {
    Json p;
    return plan_at(k, &p) && p["total_bytes"].get<double>() <= r.budget;
  };
  Json first;
  {
    ModelShape s;
    SDC_CHECK(ShapeAt(shape, r, ratio, 1, &s), StatusCode::kInvalidArgument, "plan: the shape overflows");
    SDC_RETURN_IF_ERROR(Plan(s, rates, &first));  // a shape that is wrong whatever the value
  }
  const std::string name = SolveForName(r.what);
  if (first["total_bytes"].get<double>() > r.budget) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "plan: nothing fits: at %s %llu the predicted file takes %.0f bytes, %.0f over "
                  "the budget of %.0f",
                  name.c_str(), static_cast<unsigned long long>(r.what == SolveFor::kDim ? shape.heads : 1),
                  first["total_bytes"].get<double>(), first["total_bytes"].get<double>() - r.budget, r.budget);
    return Error(StatusCode::kBudget, buf);
  }
  uint64_t lo = 1, hi = 0;  // lo fits; hi (when not 0) does not
  while (hi == 0 && lo < bound) {
    const uint64_t next = lo > bound / 2 ? bound : 2 * lo;
    if (fits(next))
      lo = next;
    else
      hi = next;
  }
  while (hi != 0 && hi - lo > 1) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (fits(mid))
      lo = mid;
    else
      hi = mid;
  }
  Json p, next;
  if (!plan_at(lo, &p)) return Error(StatusCode::kInvalidArgument, "plan: the shape overflows");
  const bool has_next = lo < bound && plan_at(lo + 1, &next);
  ModelShape s;
  ShapeAt(shape, r, ratio, lo, &s);
  Json solve = {{"parameter", name},
                {"budget_bytes", r.budget},
                {"value", r.what == SolveFor::kDim ? s.dim : lo},
                {"left_bytes", r.budget - p["total_bytes"].get<double>()}};
  if (r.what == SolveFor::kDim) solve["mlp_ratio"] = ratio;
  if (r.what == SolveFor::kUniqueLayers) solve["bound"] = bound;
  solve["next"] = has_next ? next : Json(nullptr);
  p["solve"] = std::move(solve);
  *out = std::move(p);
  return Status::Ok();
}

}  // namespace sdc
