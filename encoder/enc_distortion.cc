#include "encoder/enc_distortion.h"

#include <cmath>
#include <string>

#include "encoder/enc_hessian.h"
#include "format/endian.h"
#include "format/float_bits.h"
#include "format/tensor_layout.h"

namespace sdc {

float LoadAsFloat(DType t, const uint8_t* p) {
  if (t == DType::kF16) return HalfToFloat(LoadLE16(p));
  if (t == DType::kBF16) return Bf16ToFloat(LoadLE16(p));
  return BitsFloat(LoadLE32(p));
}

void ErrorMeasure::Measure(std::span<const float> w, DType dtype, std::span<const uint8_t> recon, double* sse,
                           double* distortion, std::span<const double> damped_rows,
                           std::span<const double> added) const {
  const size_t size = DTypeSize(dtype);
  const bool damped = !hessian.empty() && !damped_rows.empty();
  const bool direct = !hessian.empty() && !damped;
  std::vector<float> r(direct ? w.size() : 0);
  const uint64_t cols = rows ? w.size() / rows : 0;
  double e = 0, we = 0, fed = 0;
  for (uint64_t row = 0; row < rows; ++row) {
    double diag = 0;
    for (uint64_t c = 0; c < cols; ++c) {
      const uint64_t i = row * cols + c;
      const float v = LoadAsFloat(dtype, recon.data() + i * size);
      const double d = static_cast<double>(w[i]) - v;
      e += d * d;
      we += importance.empty() ? d * d : importance[i] * d * d;
      if (direct) r[i] = v;
      if (damped) diag += added[c] * d * d;
    }
    if (damped) fed += (row_weight.empty() ? 1.0 : row_weight[row]) * std::max(0.0, damped_rows[row] - diag);
  }
  *sse = e;
  if (hessian.empty())
    *distortion = factor * we;
  else if (damped)
    *distortion = factor * fed;
  else
    *distortion = factor * HessianWeightedError(w, r, rows, hessian, row_weight);
}

ErrorMeasure ErrorMeasure::SampleRows(uint64_t stride, uint64_t count) const {
  ErrorMeasure s = *this;
  s.rows = count;
  s.importance = {};  // the sample is only measured with a Hessian (enc_scalar_search)
  if (!row_weight.empty()) {
    s.row_weight.resize(count);
    for (uint64_t i = 0; i < count; ++i) s.row_weight[i] = row_weight[i * stride];
  }
  return s;
}

double ErrorMeasure::Signal(std::span<const float> w) const {
  if (!hessian.empty()) return HessianWeightedError(w, std::vector<float>(w.size(), 0.0f), rows, hessian, row_weight);
  double s = 0;
  for (size_t i = 0; i < w.size(); ++i) s += (importance.empty() ? 1.0 : importance[i]) * w[i] * w[i];
  return s;
}

std::vector<double> InverseRowMeanSquares(std::span<const float> w, uint64_t rows, uint64_t cols) {
  std::vector<double> out(rows, 0.0);
  for (uint64_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (uint64_t c = 0; c < cols; ++c) ms += static_cast<double>(w[r * cols + c]) * w[r * cols + c];
    ms /= static_cast<double>(cols);
    out[r] = ms > 0 ? 1.0 / ms : 0.0;
  }
  return out;
}

Status MakeErrorMeasure(const TensorView& t, std::span<const float> w, uint64_t numel, std::span<const double> hessian,
                        const EncodeOptions& o, std::vector<float>* importance, ErrorMeasure* out) {
  ErrorMeasure m;
  m.rows = RowsOf(t.shape).rows;
  // A measured sensitivity turns the tensor's absolute error into predicted loss: no relative normalisation.
  auto sens = o.sensitivity.find(t.name);
  const bool measured = sens != o.sensitivity.end();
  EncodeOptions unweighted;
  unweighted.relative_distortion = false;
  m.factor = measured ? sens->second : 1.0;
  if (!hessian.empty()) {
    importance->clear();
    m.hessian = hessian;
    if (o.relative_distortion && !measured) {
      const uint64_t cols = m.rows ? numel / m.rows : 0;
      double trace = 0;
      for (uint64_t c = 0; c < cols; ++c) trace += hessian[c * cols + c];
      m.factor = trace > 0 ? static_cast<double>(cols) / trace : 1.0;
      if (!w.empty()) m.row_weight = InverseRowMeanSquares(w, m.rows, cols);
    }
  } else {
    const bool user = o.importance.count(t.name) > 0;
    SDC_RETURN_IF_ERROR(ExpandImportance(t, w, numel, measured && !user ? unweighted : o, importance));
    m.importance = *importance;
  }
  *out = m;
  return Status::Ok();
}

// Relative distortion weighs each row (output channel) by 1 / its mean square: the proxy that tracks model
// loss (downstream norms rescale channels); plain squared error would starve small-magnitude tensors.
Status ExpandImportance(const TensorView& t, std::span<const float> w, uint64_t numel, const EncodeOptions& o,
                        std::vector<float>* out) {
  out->clear();
  const RowLayout rl = RowsOf(t.shape);
  auto it = o.importance.find(t.name);
  if (it == o.importance.end()) {
    if (!o.relative_distortion || w.empty()) return Status::Ok();
    out->resize(numel);
    const std::vector<double> inv = InverseRowMeanSquares(w, rl.rows, rl.cols);
    for (uint64_t r = 0; r < rl.rows; ++r)
      std::fill(out->begin() + r * rl.cols, out->begin() + (r + 1) * rl.cols, static_cast<float>(inv[r]));
    return Status::Ok();
  }
  const std::vector<float>& v = it->second;
  SDC_CHECK(v.size() == 1 || v.size() == rl.cols || v.size() == numel, StatusCode::kInvalidArgument,
            "importance has " + std::to_string(v.size()) + " values; expected 1, " + std::to_string(rl.cols) +
                " (one per column) or " + std::to_string(numel));
  for (float x : v)
    SDC_CHECK(std::isfinite(x) && x >= 0, StatusCode::kInvalidArgument, "importance values must be finite and >= 0");
  out->resize(numel);
  for (uint64_t i = 0; i < numel; ++i) (*out)[i] = v.size() == 1 ? v[0] : v.size() == numel ? v[i] : v[i % rl.cols];
  return Status::Ok();
}

}  // namespace sdc
