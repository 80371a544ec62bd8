#include "encoder/enc_hessian.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sdc {
namespace {

// In-place Cholesky of an n x n symmetric positive definite matrix (row-major, lower triangle used):
// A = L Lᵀ with L left in the lower triangle. Returns false at the first non-positive pivot. Row i's entries
// depend only on rows < i and each is one fixed-order dot product, so any thread count gives the same L.
bool Cholesky(std::vector<double>& a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double* rj = a.data() + j * n;
    double d = rj[j];
    for (int64_t k = 0; k < j; ++k) d -= rj[k] * rj[k];
    if (!(d > 0) || !std::isfinite(d)) return false;
    const double ljj = std::sqrt(d);
    rj[j] = ljj;
#pragma omp parallel for schedule(static) if (n - j > 256)
    for (int64_t i = j + 1; i < n; ++i) {
      double* ri = a.data() + i * n;
      double s = ri[j];
      for (int64_t k = 0; k < j; ++k) s -= ri[k] * rj[k];
      ri[j] = s / ljj;
    }
  }
  return true;
}

// X = L⁻¹ for the lower-triangular L in `a` (row-major): row i of X is (e_i − Σ_{k<i} L_ik X_k) / L_ii.
std::vector<double> InvertLower(const std::vector<double>& a, int64_t n) {
  std::vector<double> x(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    double* xi = x.data() + i * n;
    xi[i] = 1.0;
    const double* li = a.data() + i * n;
    for (int64_t k = 0; k < i; ++k) {
      const double f = li[k];
      const double* xk = x.data() + k * n;
      for (int64_t j = 0; j <= k; ++j) xi[j] -= f * xk[j];
    }
    const double inv = 1.0 / li[i];
    for (int64_t j = 0; j <= i; ++j) xi[j] *= inv;
  }
  return x;
}

}  // namespace

Status CheckHessian(std::span<const float> h, uint64_t cols, std::vector<double>* out) {
  SDC_CHECK(h.size() == cols * cols, StatusCode::kInvalidArgument,
            "Hessian has " + std::to_string(h.size()) + " values; expected " + std::to_string(cols) + " x " +
                std::to_string(cols) + " (the tensor's last dimension, squared)");
  double amax = 0;
  for (float v : h) {
    SDC_CHECK(std::isfinite(v), StatusCode::kInvalidArgument, "Hessian holds NaN or infinite values");
    amax = std::max(amax, std::fabs(static_cast<double>(v)));
  }
  out->assign(h.begin(), h.end());
  std::vector<double>& a = *out;
  for (uint64_t i = 0; i < cols; ++i) {
    SDC_CHECK(a[i * cols + i] >= 0, StatusCode::kInvalidArgument,
              "Hessian has a negative diagonal entry (column " + std::to_string(i) + "): not E[x xᵀ]");
    for (uint64_t j = i + 1; j < cols; ++j) {
      const double x = a[i * cols + j], y = a[j * cols + i];
      SDC_CHECK(std::fabs(x - y) <= 1e-4 * amax, StatusCode::kInvalidArgument,
                "Hessian is not symmetric (entries " + std::to_string(i) + "," + std::to_string(j) + ")");
      a[i * cols + j] = a[j * cols + i] = 0.5 * (x + y);
    }
  }
  return Status::Ok();
}

Status FactorHessian(std::span<const double> h, uint64_t cols, double damping, bool act_order, HessianFactor* out) {
  const int64_t n = static_cast<int64_t>(cols);
  HessianFactor f;
  f.cols = cols;
  double mean_diag = 0;
  for (int64_t i = 0; i < n; ++i) mean_diag += h[i * n + i];
  mean_diag = n ? mean_diag / static_cast<double>(n) : 0;
  if (!(mean_diag > 0)) mean_diag = 1;  // no input ever reached any column: every column weighs alike
  f.order.resize(cols);
  std::iota(f.order.begin(), f.order.end(), 0u);
  if (act_order)
    std::stable_sort(f.order.begin(), f.order.end(),
                     [&](uint32_t a, uint32_t b) { return h[a * n + a] > h[b * n + b]; });
  for (double d = std::max(damping, 1e-12);; d *= 10) {
    const double delta = d * mean_diag;
    // J A J: the damped H in quantization order, reversed, so that its lower Cholesky factor L gives
    // U = J L⁻¹ J with Uᵀ U = A⁻¹ (one factorisation and one triangular inverse).
    std::vector<double> a(static_cast<size_t>(n * n));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) {
        const uint32_t oi = f.order[n - 1 - i], oj = f.order[n - 1 - j];
        a[i * n + j] = h[oi * n + oj] + (i == j ? delta : 0.0);
      }
    if (!Cholesky(a, n)) {
      SDC_CHECK(d < 1, StatusCode::kInvalidArgument,
                "Hessian is not positive semi-definite (no Cholesky factor even with damping 1 x mean diag)");
      continue;
    }
    const std::vector<double> x = InvertLower(a, n);
    f.u.assign(static_cast<size_t>(n * n), 0.0f);
    f.g.assign(cols, 0.0);
    f.added.assign(cols, delta);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i; j < n; ++j) f.u[i * n + j] = static_cast<float>(x[(n - 1 - i) * n + (n - 1 - j)]);
    for (int64_t i = 0; i < n; ++i) {
      const double uii = x[(n - 1 - i) * n + (n - 1 - i)];
      f.g[f.order[i]] = 1.0 / (uii * uii);
    }
    f.damping = d;
    break;
  }
  *out = std::move(f);
  return Status::Ok();
}

double HessianWeightedError(std::span<const float> w, std::span<const float> recon, uint64_t rows,
                            std::span<const double> h, std::span<const double> row_weight) {
  const uint64_t cols = rows ? w.size() / rows : 0;
  // Per-row sums added in row order afterwards: the same total for any thread count.
  std::vector<double> per_row(rows, 0.0);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < static_cast<int64_t>(rows); ++r) {
    std::vector<double> d(cols);
    for (uint64_t c = 0; c < cols; ++c)
      d[c] = static_cast<double>(w[r * cols + c]) - static_cast<double>(recon[r * cols + c]);
    double s = 0;
    for (uint64_t i = 0; i < cols; ++i) {
      double hi = 0;
      for (uint64_t j = 0; j < cols; ++j) hi += h[i * cols + j] * d[j];
      s += d[i] * hi;
    }
    per_row[r] = row_weight.empty() ? s : row_weight[r] * s;
  }
  double total = 0;
  for (double v : per_row) total += v;
  return total;
}

}  // namespace sdc
