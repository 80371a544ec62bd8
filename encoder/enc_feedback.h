// Rate-aware error-feedback rounding of scalar codes. Every element's step is fixed beforehand (its row or
// group scale, times its column's scale where the tensor has column scales); this chooses the codes. Columns
// are taken in the Hessian factor's order; each weight gets the code c in [-q, q] minimising
//     ĝ_j · ((w − v(c)) / step)²  +  λ · bits(c)
// where v(c) is the decoder's reconstruction of c, ĝ_j = g_j / mean(g) the weight of column j's error
// (enc_hessian.h; 1 without a Hessian) and bits(c) the code's length under the tensor's entropy model, and
// its error e = (w − v(c)) / U_jj is fed back into the columns still to come (w_k −= e · U_jk), as in GPTQ.
// λ = 0 without a Hessian is plain nearest rounding. λ > 0 is the rate term of CERWU (arXiv 2505.18758): a
// weight whose nearest code is rare may take a cheaper neighbour when the error that costs is worth the bits.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "decoder/dec_scalar.h"
#include "encoder/enc_hessian.h"
#include "format/status.h"

namespace sdc {

struct FeedbackRequest {
  std::span<const float> w;               // rows * cols, row-major
  ScalarLayout layout;                    // rows, cols, bits (q = 2^(bits-1) - 1), group size
  std::span<const float> scales;          // rows * groups per row, as the decoder reads them
  std::span<const float> col_scales;      // empty, or cols, as the decoder reads them
  const HessianFactor* factor = nullptr;  // null: no feedback, columns in order, ĝ = 1
  double lambda = 0;                      // rate weight, in units of (step)² per bit
  std::span<const float> code_bits;       // empty, or 2q + 1 lengths in bits (index: stored code)
};

// Stored codes (code + q) of every element, rows * cols. With a factor, *damped_rows (optional) gets each
// row's Σ e²: exactly ΔW_r (H + damping) ΔW_rᵀ of the result (ΔW = E U; UᵀU = (H + damping)⁻¹), up to the
// float rounding of the feedback.
Status RoundWithFeedback(const FeedbackRequest& req, std::vector<uint8_t>* codes,
                         std::vector<double>* damped_rows = nullptr);

// Code lengths in bits of an order-0 model fitted to `codes` (2q + 1 symbols; unseen codes get half a
// count, so no length is infinite).
std::vector<float> CodeLengths(std::span<const uint8_t> codes, int q);

// Order-0 entropy of `codes`, in bits (the size an ideal coder of their histogram reaches).
double EntropyBits(std::span<const uint8_t> codes);

}  // namespace sdc
