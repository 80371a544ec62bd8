#include "encoder/enc_scalar.h"

#include "encoder/enc_feedback.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "format/endian.h"
#include "format/float_bits.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

// Clip ratios of absmax tried first: geometric from 1 down to ~0.15, fine enough that refining around
// the best one recovers nearly all of the gain of an exhaustive search (heavy-tailed rows at 2-3 bits
// want clips far below absmax; near-Gaussian rows at 8 bits want nearly absmax).
constexpr int kCoarse = 24;
constexpr double kCoarseStep = 0.925;
constexpr int kFine = 4;  // refinement points on each side of the best coarse ratio

float RoundScale(double s, DType scale_dtype) {
  float f = static_cast<float>(s);
  return scale_dtype == DType::kF16 ? HalfToFloat(FloatToHalf(f)) : f;
}

// Round to nearest even for |x| < 2^22 without a libm call (the default x86-64 target has no roundss):
// adding 1.5 * 2^23 pushes the fraction bits out under the FPU's round-to-nearest-even mode.
inline float RoundNearest(float x) {
  constexpr float kMagic = 12582912.0f;
  return (x + kMagic) - kMagic;
}

// Squared error of quantizing `g` with `scale` (as stored), using the decoder's arithmetic. Callers pass
// scales >= absmax * 0.1 / q, so |v / scale| stays far below 2^22.
double GroupError(std::span<const float> g, std::span<const float> imp, float scale, int q) {
  double e = 0;
  const float inv = scale == 0.0f ? 0.0f : 1.0f / scale, fq = static_cast<float>(q);
  for (size_t i = 0; i < g.size(); ++i) {
    const float v = g[i];
    const float c = scale == 0.0f ? 0.0f : RoundNearest(std::min(std::max(v * inv, -fq), fq));
    const double d = static_cast<double>(v) - static_cast<double>(c * scale);
    e += imp.empty() ? d * d : imp[i] * d * d;
  }
  return e;
}

float BestScale(std::span<const float> g, std::span<const float> imp, int q, DType scale_dtype) {
  float amax = 0;
  for (float v : g) amax = std::max(amax, std::fabs(v));
  if (amax == 0.0f) return 0.0f;
  auto eval = [&](double ratio, float* s) {
    *s = RoundScale(amax * ratio / q, scale_dtype);
    return GroupError(g, imp, *s, q);
  };
  double best_ratio = 1.0, best_err = std::numeric_limits<double>::infinity();
  float best_s = 0;
  for (int k = 0; k < kCoarse; ++k) {
    double r = std::pow(kCoarseStep, k), s_err;
    float s;
    s_err = eval(r, &s);
    if (s_err < best_err) best_err = s_err, best_ratio = r, best_s = s;
  }
  const double center = best_ratio;
  for (int j = -kFine; j <= kFine; ++j) {
    if (j == 0) continue;
    double r = center * std::pow(kCoarseStep, static_cast<double>(j) / (kFine + 1));
    if (r > 1.0) continue;
    float s;
    double e = eval(r, &s);
    if (e < best_err) best_err = e, best_s = s;
  }
  return best_s;
}

float UniformScale(std::span<const float> g, float step, int q, DType scale_dtype) {
  float amax = 0;
  for (float v : g) amax = std::max(amax, std::fabs(v));
  return RoundScale(std::max<double>(step, static_cast<double>(amax) / q), scale_dtype);
}

float RelativeScale(std::span<const float> g, float step, int q, DType scale_dtype) {
  double ss = 0;
  float amax = 0;
  for (float v : g) ss += static_cast<double>(v) * v, amax = std::max(amax, std::fabs(v));
  if (amax == 0.0f) return 0.0f;
  const double rms = std::sqrt(ss / static_cast<double>(g.size()));
  return RoundScale(std::max<double>(step * rms, static_cast<double>(amax) / q), scale_dtype);
}

bool FitsF16(float s) { return s == 0.0f || (s >= 6.103515625e-05f && s <= 65504.0f); }

}  // namespace

Status ChooseScales(std::span<const float> w, RowLayout rows, const ScalarSearch& search, ScalarCodes* out,
                    std::vector<float>* values) {
  SDC_CHECK(search.bits >= 2 && search.bits <= 8, StatusCode::kInvalidArgument, "scalar: bits must be 2..8");
  SDC_CHECK(w.size() == rows.numel(), StatusCode::kInternal, "scalar: data size does not match layout");
  const int q = (1 << (search.bits - 1)) - 1;
  const uint64_t gpr = GroupsPerRow(rows.cols, search.group_size);
  const uint64_t group = search.group_size == 0 ? rows.cols : search.group_size;
  const int64_t ngroups = static_cast<int64_t>(rows.rows * gpr);

  SDC_CHECK(search.importance.empty() || search.importance.size() == w.size(), StatusCode::kInternal,
            "scalar: importance size does not match the data");
  auto group_span = [&](int64_t gi, std::span<const float> v) {
    const uint64_t r = gi / gpr, c0 = (gi % gpr) * group;
    return v.empty() ? v : v.subspan(r * rows.cols + c0, std::min<uint64_t>(group, rows.cols - c0));
  };
  // F16 scales unless a scale falls outside F16's normal range (then F32 for the whole tensor, so
  // precision is never silently lost to subnormal or overflowing scales).
  DType scale_dtype = DType::kF16;
  std::vector<float> scales(ngroups);
  for (int pass = 0; pass < 2; ++pass) {
    bool fits = true;
#pragma omp parallel for schedule(dynamic, 16) reduction(&& : fits)
    for (int64_t gi = 0; gi < ngroups; ++gi) {
      const std::span<const float> g = group_span(gi, w);
      scales[gi] = search.uniform_step > 0    ? UniformScale(g, search.uniform_step, q, scale_dtype)
                   : search.relative_step > 0 ? RelativeScale(g, search.relative_step, q, scale_dtype)
                                              : BestScale(g, group_span(gi, search.importance), q, scale_dtype);
      fits = fits && (scale_dtype != DType::kF16 || FitsF16(scales[gi]));
    }
    if (fits) break;
    scale_dtype = DType::kF32;
  }
  ScalarCodes r;
  r.layout = {rows, search.bits, search.group_size, scale_dtype};
  r.scales.resize(ngroups * DTypeSize(scale_dtype));
  for (int64_t gi = 0; gi < ngroups; ++gi) {
    if (scale_dtype == DType::kF16)
      StoreLE16(r.scales.data() + 2 * gi, FloatToHalf(scales[gi]));
    else
      StoreLE32(r.scales.data() + 4 * gi, FloatBits(scales[gi]));
  }
  *out = std::move(r);
  *values = std::move(scales);  // already rounded to the stored dtype by RoundScale
  return Status::Ok();
}

Status QuantizeScalar(std::span<const float> w, RowLayout rows, const ScalarSearch& search, ScalarCodes* out) {
  std::vector<float> scales;
  SDC_RETURN_IF_ERROR(ChooseScales(w, rows, search, out, &scales));
  FeedbackRequest req;
  req.w = w;
  req.layout = out->layout;
  req.scales = scales;
  return RoundWithFeedback(req, &out->codes);
}

}  // namespace sdc
