// One way to store one tensor (a candidate the allocator can pick), and the tensor's list of them.
// Sections are held by the part of the representation they store, never by position.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "decoder/dec_codebook.h"
#include "decoder/dec_scalar.h"
#include "encoder/enc_container.h"
#include "encoder/enc_distortion.h"
#include "encoder/enc_hessian.h"
#include "format/safetensors.h"
#include "format/types.h"

namespace sdc {

struct ResidualPart {
  uint64_t count = 0;  // corrected elements
  float step = 0;      // correction = step * value
  SectionData positions, values;
};

struct Candidate {
  fb::Representation rep = fb::Representation::RawRep;
  // raw
  DType stored_dtype = DType::kF32;
  std::optional<SectionData> data;
  // scalar
  ScalarLayout layout;
  std::optional<SectionData> codes;
  // scalar and codebook
  std::optional<SectionData> scales;
  // codebook
  CodebookLayout cb_layout;
  std::vector<float> coefficients;     // one per bank
  std::vector<SectionData> indices;    // one per bank
  std::vector<SectionData> own_banks;  // this tensor's own banks; empty: the shared banks
  std::optional<ResidualPart> residual;

  uint64_t recon_xxh64 = 0;
  double sse = 0;         // squared error of the reconstruction
  double distortion = 0;  // the error the allocator weighs (enc_distortion.h)

  // Stored bytes of every section.
  uint64_t bytes() const;
};

struct PlannedTensor {
  const TensorView* view = nullptr;
  std::vector<float> importance;  // empty, or one weight per element
  std::vector<double> hessian;    // empty, or cols * cols (checked and symmetric)
  HessianFactor factor;           // with a Hessian
  ErrorMeasure measure;           // views of `importance` / `hessian`
  Role role = Role::kOther;
  uint8_t role_source = 0;
  uint64_t numel = 0;
  double signal = 0;           // sum of squared values
  double measured_signal = 0;  // the signal on the error measure's scale (measure.Signal)
  std::vector<Candidate> candidates;
};

}  // namespace sdc
