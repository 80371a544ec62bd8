#include "encoder/enc_feedback.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "format/tensor_layout.h"

namespace sdc {
namespace {

// Rows per tile: a tile's permuted copy stays in cache while U's rows stream past it once per tile.
constexpr int64_t kTileRows = 32;

// w_k −= e · u_k for the columns after j: the inner loop of the feedback, kept apart so it vectorises.
void FeedBack(float* __restrict w, const float* __restrict u, float e, int64_t from, int64_t to) {
  for (int64_t k = from; k < to; ++k) w[k] -= e * u[k];
}

}  // namespace

std::vector<float> CodeLengths(std::span<const uint8_t> codes, int q) {
  std::vector<double> count(2 * q + 1, 0.5);
  for (uint8_t c : codes)
    if (c <= 2 * q) count[c] += 1;
  const double total = std::accumulate(count.begin(), count.end(), 0.0);
  std::vector<float> bits(count.size());
  for (size_t i = 0; i < count.size(); ++i) bits[i] = static_cast<float>(-std::log2(count[i] / total));
  return bits;
}

double EntropyBits(std::span<const uint8_t> codes) {
  std::vector<double> n(256, 0.0);
  for (uint8_t c : codes) n[c] += 1;
  double bits = 0;
  for (double x : n)
    if (x > 0) bits -= x * std::log2(x / static_cast<double>(codes.size()));
  return bits;
}

Status RoundWithFeedback(const FeedbackRequest& req, std::vector<uint8_t>* codes, std::vector<double>* damped_rows) {
  const ScalarLayout& l = req.layout;
  const int64_t rows = static_cast<int64_t>(l.rows.rows), n = static_cast<int64_t>(l.rows.cols);
  const int q = (1 << (l.bits - 1)) - 1;
  const uint64_t gpr = GroupsPerRow(l.rows.cols, l.group_size);
  const uint64_t group = l.group_size == 0 ? l.rows.cols : l.group_size;
  const HessianFactor* f = req.factor;
  SDC_CHECK(req.w.size() == static_cast<uint64_t>(rows * n) && req.scales.size() == rows * gpr &&
                (req.col_scales.empty() || req.col_scales.size() == static_cast<uint64_t>(n)) &&
                (req.code_bits.empty() || req.code_bits.size() == static_cast<size_t>(2 * q + 1)) &&
                (!f || f->cols == static_cast<uint64_t>(n)),
            StatusCode::kInternal, "feedback rounding: sizes do not match the layout");
  const bool rate = req.lambda > 0 && !req.code_bits.empty();

  std::vector<uint32_t> order(n);
  std::vector<double> gn(n, 1.0);  // ĝ in quantization order
  if (f) {
    order = f->order;
    const double mean = std::accumulate(f->g.begin(), f->g.end(), 0.0) / static_cast<double>(std::max<int64_t>(n, 1));
    for (int64_t j = 0; j < n; ++j) gn[j] = mean > 0 ? f->g[order[j]] / mean : 1.0;
  } else {
    std::iota(order.begin(), order.end(), 0u);
  }
  codes->assign(static_cast<size_t>(rows * n), 0);
  const int64_t tiles = (rows + kTileRows - 1) / kTileRows;
  std::vector<double> row_error(f ? rows : 0, 0.0);  // Σ e² per row, added in row order at the end

  // Each row's codes depend only on that row and the factor, and every element receives its feedback terms in
  // the same order (j ascending) whatever the tiling, so any thread count gives the same codes.
#pragma omp parallel for schedule(dynamic)
  for (int64_t tile = 0; tile < tiles; ++tile) {
    const int64_t r0 = tile * kTileRows, nr = std::min(kTileRows, rows - r0);
    std::vector<float> wt(static_cast<size_t>(nr * n));
    for (int64_t r = 0; r < nr; ++r)
      for (int64_t j = 0; j < n; ++j) wt[r * n + j] = req.w[(r0 + r) * n + order[j]];
    for (int64_t j = 0; j < n; ++j) {
      const uint32_t col = order[j];
      const float t = req.col_scales.empty() ? 1.0f : req.col_scales[col];
      const float ujj = f ? f->u[j * n + j] : 1.0f;
      for (int64_t r = 0; r < nr; ++r) {
        const float s = req.scales[(r0 + r) * gpr + col / group];
        const float x = wt[r * n + j];
        // The decoder's value of code c: one binary32 product, then the column scale's.
        auto value = [&](int c) {
          float v = static_cast<float>(c) * s;
          return req.col_scales.empty() ? v : v * t;
        };
        // The nearest level first (as float arithmetic finds it), then its two neighbours, each kept only when
        // strictly cheaper: with no rate term and ĝ = 1 this is exactly the nearest-level rounding.
        const float step = req.col_scales.empty() ? s : s * t;
        int best = 0;
        if (step > 0.0f) {
          const int c0 = std::clamp(static_cast<int>(std::nearbyint(x / step)), -q, q);
          auto cost = [&](int c) {
            const double d = static_cast<double>(std::fabs(x - value(c))) / step;
            return gn[j] * d * d + (rate ? req.lambda * req.code_bits[c + q] : 0.0);
          };
          best = c0;
          double best_cost = cost(c0);
          for (int c : {c0 - 1, c0 + 1}) {
            if (c < -q || c > q) continue;
            const double k = cost(c);
            if (k < best_cost) best_cost = k, best = c;
          }
        }
        (*codes)[(r0 + r) * n + col] = static_cast<uint8_t>(best + q);
        if (!f) continue;
        const float e = (x - value(best)) / ujj;
        row_error[r0 + r] += static_cast<double>(e) * e;
        FeedBack(wt.data() + r * n, f->u.data() + j * n, e, j + 1, n);
      }
    }
  }
  if (damped_rows) *damped_rows = std::move(row_error);
  return Status::Ok();
}

}  // namespace sdc
