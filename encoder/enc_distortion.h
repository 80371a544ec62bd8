// The error the encoder minimises for one tensor. With a Hessian H it is the output error Σ_r ΔW_r H ΔW_rᵀ
// (enc_hessian.h) — under relative distortion each row's divided by the row's mean square times the mean of
// diag H: the relative measure below with H's shape inside a row, and exactly that measure when H ∝ I. (Dividing
// the whole tensor's error by tr(W H Wᵀ) instead starves tensors whose rows align with H's large directions,
// the attention queries and keys: on stories260K at 120 kB it cost 0.35 bpb.) Without, it is Σ importance · err²: the user's
// importance where a tensor has some (one value, one per column, or one per element), else with relative
// distortion 1 / the row's mean square (every output channel's relative error counts the same), else 1.
// A tensor with a measured sensitivity (options.sensitivity: loss per unit of that error, H-weighted or plain)
// takes its absolute error times the sensitivity: predicted loss, on one scale for every tensor that has one.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "encoder/enc_options.h"
#include "format/safetensors.h"
#include "format/status.h"

namespace sdc {

// One weight per element of `t` (empty: every element weighs 1).
Status ExpandImportance(const TensorView& t, std::span<const float> w, uint64_t numel, const EncodeOptions& o,
                        std::vector<float>* out);

struct ErrorMeasure {
  std::span<const float> importance;  // one weight per element, or empty (every element weighs 1)
  std::span<const double> hessian;    // cols * cols, or empty
  std::vector<double> row_weight;     // with a Hessian: one weight per row, or empty (every row weighs 1)
  uint64_t rows = 0;
  double factor = 1;  // sensitivity (and, with a Hessian, the relative normalisation)

  // Squared error (plain) and the measured error, between `w` and a reconstruction stored as `dtype`.
  // `damped_rows` (optional, with a Hessian): the error-feedback rounding's Σ e² per row, ΔW_r (H + D) ΔW_rᵀ
  // for the diagonal D = `added` (HessianFactor), from which ΔW_r H ΔW_rᵀ = Σ e² − Σ_j D_j ΔW_rj² costs one
  // pass over the elements instead of a matrix product.
  void Measure(std::span<const float> w, DType dtype, std::span<const uint8_t> recon, double* sse, double* distortion,
               std::span<const double> damped_rows = {}, std::span<const double> added = {}) const;
  // The signal the measured error is compared with for an SNR: Σ w² (importance-weighted), or Σ_r ρ_r w_r H w_rᵀ.
  double Signal(std::span<const float> w) const;
  // The measure of the rows first, first + stride, ... (`count` of them), for a sample of those rows.
  ErrorMeasure SampleRows(uint64_t stride, uint64_t count) const;
};

// The measure for tensor `t` with values `w`: importance expanded into `*importance` (kept by the caller),
// the Hessian (already checked) or none.
Status MakeErrorMeasure(const TensorView& t, std::span<const float> w, uint64_t numel, std::span<const double> hessian,
                        const EncodeOptions& o, std::vector<float>* importance, ErrorMeasure* out);

// 1 / each row's mean square (0 for a row of zeros): the relative measure's row weights, with or without H.
std::vector<double> InverseRowMeanSquares(std::span<const float> w, uint64_t rows, uint64_t cols);

// One stored F32/F16/BF16 value as binary32.
float LoadAsFloat(DType t, const uint8_t* p);

}  // namespace sdc
