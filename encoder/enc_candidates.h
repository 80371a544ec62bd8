// Candidate encodings of one tensor, one function per representation: each builds the sections, reconstructs
// with the decoder's own functions (so the tensor hash is the decoder's by construction) and measures the error.
#pragma once

#include <span>
#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_codebook.h"
#include "encoder/enc_distortion.h"
#include "encoder/enc_hessian.h"
#include "encoder/enc_options.h"
#include "encoder/enc_search_space.h"

namespace sdc {

// The tensor as it is (or cast to options.raw_cast). `w` holds its values when they are finite floats, else
// it is empty (and the candidate is lossless).
Status RawCandidate(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const EncodeOptions& o,
                    Candidate* out);

// Scalar codes for one setting (enc_search_space.h): clipped per-row (per-group) scales or one uniform step;
// the codes by error feedback through `factor` when the tensor has a Hessian (else nearest), with the
// setting's rate weight under the code lengths `code_bits` (empty: none). *codes gets the stored codes.
Status ScalarCandidate(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const ScalarSetting& s,
                       const HessianFactor* factor, std::span<const float> code_bits, const EncodeOptions& o,
                       Candidate* out, std::vector<uint8_t>* codes = nullptr);

// Codebook candidates for one entropy penalty: the plain reconstruction, then one per residual fraction,
// each correcting the elements with the largest importance-weighted errors of the plain reconstruction.
// `own_banks`: the banks are this tensor's own and are stored with it.
Status CodebookCandidates(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const BankSet& banks,
                          bool own_banks, double lambda, std::span<const double> fractions, const EncodeOptions& o,
                          std::vector<Candidate>* out);

}  // namespace sdc
