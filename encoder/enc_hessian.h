// Calibration Hessians. For a 2-D tensor W [rows, cols] applied as y = W x, H = E[x xᵀ] [cols, cols] over the
// inputs x seen on calibration data; to first order the model's loss grows with tr(ΔW H ΔWᵀ) = E‖ΔW x‖², the
// error of the layer's output, not with ‖ΔW‖². The error-feedback rounding (enc_feedback.h) quantizes columns
// one at a time and lets the columns still to come absorb each error through the upper Cholesky factor U of
// the damped inverse (H + δ)⁻¹ = UᵀU (GPTQ / OBQ); with e_j = (w_j − q_j) / U_jj the damped error is exactly
// Σ e_j², so column j's rounding error weighs g_j = 1 / U_jj².
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "format/status.h"

namespace sdc {

struct HessianFactor {
  uint64_t cols = 0;
  std::vector<uint32_t> order;  // columns in quantization order
  std::vector<float> u;         // U in that order: cols * cols row-major, upper triangular
  std::vector<double> g;        // per column, original order: 1 / U_jj², the weight of its rounding error
  std::vector<double> added;    // per column, original order: what damping added to H's diagonal
  double damping = 0;           // the fraction of mean diag H finally used (raised when H is singular)
};

// A Hessian as given, checked: cols * cols finite values, symmetric to within 1e-4 of its largest entry
// (then made exactly symmetric), no negative diagonal entry. `h` is row-major float32. The messages name
// what is wrong; callers prefix the tensor.
Status CheckHessian(std::span<const float> h, uint64_t cols, std::vector<double>* out);

// Damps H by `damping` * mean(diag H) (a column no input ever reached, diag 0, gets that alone), orders the
// columns (act-order: largest diag H first, ties by index; else as stored) and factors. A damped H that is
// still not positive definite is damped ten times more, up to damping 1; past that it is refused.
Status FactorHessian(std::span<const double> h, uint64_t cols, double damping, bool act_order, HessianFactor* out);

// Σ_r ρ_r ΔW_r H ΔW_rᵀ by its definition, ΔW = w - recon, both rows * cols row-major (double
// accumulation); ρ = `row_weight`, or 1 for every row when empty: tr(ΔW H ΔWᵀ).
double HessianWeightedError(std::span<const float> w, std::span<const float> recon, uint64_t rows,
                            std::span<const double> h, std::span<const double> row_weight = {});

}  // namespace sdc
