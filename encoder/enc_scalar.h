// Scalar quantization search: for each row (or group of a row) the scale whose symmetric b-bit
// quantization has the least squared error, chosen over a grid of clip ratios of the group's absmax and
// refined around the best, with the error measured on the scale as it will be stored (F16 rounding
// included). The reconstruction rule is the decoder's (decoder/dec_scalar.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "decoder/dec_scalar.h"
#include "format/status.h"

namespace sdc {

struct ScalarSearch {
  int bits = 6;
  uint32_t group_size = 0;  // 0: per row
  // > 0: no clip search; every group uses this one step (entropy-coded uniform quantization, the
  // high-rate MSE optimum: equal step everywhere, rows of small weights then cost few bits), except a
  // group whose absmax needs more than Q steps, which gets absmax / Q instead of being clipped.
  float uniform_step = 0;
  // Empty, or one non-negative weight per element of `w`: the clip search minimises the weighted error.
  std::span<const float> importance;
  // > 0 (and uniform_step 0): no clip search; each group's scale is this many times the group's root mean
  // square (entropy-coded uniform quantization of every row relative to its own size: under relative
  // distortion, where each row's relative error counts the same, the clipped fixed-rate grid loses about
  // 0.1 bit/weight to it at 3-4 bits, bench/scalar_gap.py), with the same absmax / Q floor as uniform_step.
  float relative_step = 0;
};

struct ScalarCodes {
  ScalarLayout layout;
  std::vector<uint8_t> scales;  // little-endian, layout.scale_dtype
  std::vector<uint8_t> codes;   // one byte per element
};

// `w` holds rows * cols finite values. Uses F16 scales unless some scale needs F32's range. Codes are the
// nearest levels (enc_feedback.h without a Hessian or rate term).
Status QuantizeScalar(std::span<const float> w, RowLayout rows, const ScalarSearch& search, ScalarCodes* out);

// The scales alone: out->layout and out->scales set, out->codes left empty; `values` gets each scale as the
// decoder reads it back.
Status ChooseScales(std::span<const float> w, RowLayout rows, const ScalarSearch& search, ScalarCodes* out,
                    std::vector<float>* values);

}  // namespace sdc
