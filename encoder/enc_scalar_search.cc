#include "encoder/enc_scalar_search.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "encoder/enc_candidates.h"
#include "encoder/enc_feedback.h"
#include "encoder/enc_scalar.h"
#include "encoder/enc_search_space.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

int QOf(int bits) { return (1 << (bits - 1)) - 1; }

// The setting without a rate term that a rate-aware setting takes its entropy model from: the same step and
// bits (settings list each uniform step first, then its rate-aware variants).
size_t TwinOf(const std::vector<ScalarSetting>& s, size_t i) {
  while (i > 0 && s[i].lambda > 0) --i;
  return i;
}

// Runs `code(i, lengths)` for every selected setting, in parallel: those without a rate term first (each
// returning its codes' lengths for its twins), then the rate-aware ones with their twin's lengths. Each is
// computed the same way whatever thread runs it.
template <typename Code>
Status InTwinOrder(const std::vector<ScalarSetting>& s, const std::vector<size_t>& selected,
                   std::vector<std::vector<float>>* lengths, Code code) {
  std::vector<Status> status(s.size());
  for (int rated = 0; rated < 2; ++rated) {
#pragma omp parallel for schedule(dynamic) if (selected.size() > 1)
    for (size_t k = 0; k < selected.size(); ++k) {
      const size_t i = selected[k];
      if ((s[i].lambda > 0) != (rated == 1)) continue;
      status[i] = code(i, rated ? std::span<const float>((*lengths)[TwinOf(s, i)]) : std::span<const float>());
    }
  }
  for (const Status& st : status) SDC_RETURN_IF_ERROR(st);
  return Status::Ok();
}

// Predicted bytes and error of every setting from a sample of rows (every stride-th row), and the settings on
// the lower convex hull of those predictions. Rate-aware settings keep the sample's entropy model.
Status Preselect(std::span<const float> w, RowLayout rl, const ErrorMeasure& m, const HessianFactor& f,
                 const std::vector<ScalarSetting>& s, const EncodeOptions& o, std::vector<size_t>* selected,
                 std::vector<std::vector<float>>* lengths) {
  const uint64_t stride = rl.rows / kSampleRows;
  std::vector<float> sample(kSampleRows * rl.cols);
  for (uint64_t i = 0; i < kSampleRows; ++i)
    std::copy_n(w.begin() + i * stride * rl.cols, rl.cols, sample.begin() + i * rl.cols);
  const RowLayout sl{kSampleRows, rl.cols};
  const ErrorMeasure sm = m.SampleRows(stride, kSampleRows);
  const double scale = static_cast<double>(rl.rows) / kSampleRows;
  std::vector<double> bytes(s.size()), error(s.size());
  std::vector<size_t> all(s.size());
  std::iota(all.begin(), all.end(), 0);
  SDC_RETURN_IF_ERROR(InTwinOrder(s, all, lengths, [&](size_t i, std::span<const float> bits) -> Status {
    ScalarCodes q;
    std::vector<float> scales;
    SDC_RETURN_IF_ERROR(
        ChooseScales(sample, sl, {s[i].bits, o.group_size, s[i].uniform_step, {}, s[i].relative_step}, &q, &scales));
    FeedbackRequest req{sample, q.layout, scales, {}, &f, s[i].lambda, bits};
    std::vector<double> damped;
    SDC_RETURN_IF_ERROR(RoundWithFeedback(req, &q.codes, &damped));
    std::vector<uint8_t> recon(sample.size() * 4);
    SDC_RETURN_IF_ERROR(DequantizeScalar(q.layout, q.scales, q.codes, DType::kF32, recon));
    double sse = 0, dist = 0;
    sm.Measure(sample, DType::kF32, recon, &sse, &dist, damped, f.added);
    // One uniform step is a constant scale table, which compresses to nothing; clipped scales cost theirs.
    bytes[i] =
        scale * (EntropyBits(q.codes) / 8 + (s[i].uniform_step > 0 ? 0.0 : static_cast<double>(q.scales.size())));
    error[i] = scale * dist;
    if (s[i].lambda == 0) (*lengths)[i] = CodeLengths(q.codes, QOf(s[i].bits));
    return Status::Ok();
  }));
  *selected = LowerHull(bytes, error);
  return Status::Ok();
}

}  // namespace

std::vector<size_t> LowerHull(std::span<const double> bytes, std::span<const double> error) {
  std::vector<size_t> order(bytes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return bytes[a] != bytes[b] ? bytes[a] < bytes[b] : error[a] < error[b];
  });
  std::vector<size_t> hull;
  for (size_t i : order) {
    if (!hull.empty() && error[i] >= error[hull.back()]) continue;  // costs more, no less error
    // Drop the last point while it lies on or above the segment from the one before it to this one.
    while (hull.size() >= 2) {
      const size_t a = hull[hull.size() - 2], b = hull.back();
      const double cross =
          (bytes[b] - bytes[a]) * (error[i] - error[a]) - (error[b] - error[a]) * (bytes[i] - bytes[a]);
      if (cross > 0) break;
      hull.pop_back();
    }
    hull.push_back(i);
  }
  return hull;
}

Status ScalarCandidates(const TensorView& t, std::span<const float> w, const ErrorMeasure& m,
                        const HessianFactor* factor, const EncodeOptions& o, std::vector<Candidate>* out) {
  const std::vector<ScalarSetting> s = ScalarSettings(w, RowsOf(t.shape).cols, o, factor != nullptr);
  const RowLayout rl = RowsOf(t.shape);
  std::vector<std::vector<float>> lengths(s.size());
  std::vector<size_t> selected(s.size());
  std::iota(selected.begin(), selected.end(), 0);
  const bool sampled = factor && s.size() > 1 && rl.rows > 2 * kSampleRows;
  if (sampled) SDC_RETURN_IF_ERROR(Preselect(w, rl, m, *factor, s, o, &selected, &lengths));
  std::vector<Candidate> candidates(s.size());
  SDC_RETURN_IF_ERROR(InTwinOrder(s, selected, &lengths, [&](size_t i, std::span<const float> bits) -> Status {
    // A sampled search already holds every entropy model; otherwise the full codes make their twins' models.
    std::vector<uint8_t> codes;
    const bool model = factor && !sampled && s[i].lambda == 0;
    SDC_RETURN_IF_ERROR(ScalarCandidate(t, w, m, s[i], factor, bits, o, &candidates[i], model ? &codes : nullptr));
    if (model) lengths[i] = CodeLengths(codes, QOf(s[i].bits));
    return Status::Ok();
  }));
  for (size_t i : selected) out->push_back(std::move(candidates[i]));
  return Status::Ok();
}

}  // namespace sdc
