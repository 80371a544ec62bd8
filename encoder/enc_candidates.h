// Candidate encodings of one tensor, one function per representation: each builds the sections, reconstructs
// with the decoder's own functions (so the tensor hash is the decoder's by construction) and measures the error.
#pragma once

#include <span>
#include <vector>

#include "encoder/enc_candidate.h"
#include "encoder/enc_codebook.h"
#include "encoder/enc_options.h"

namespace sdc {

// The tensor as it is (or cast to options.raw_cast). `w` holds its values when they are finite floats, else
// it is empty (and the candidate is lossless).
Status RawCandidate(const TensorView& t, std::span<const float> w, std::span<const float> imp, const EncodeOptions& o,
                    Candidate* out);

// Scalar codes at `bits`, with clipped per-row (per-group) scales, or with `uniform_step` > 0 one step.
Status ScalarCandidate(const TensorView& t, std::span<const float> w, std::span<const float> imp, int bits,
                       float uniform_step, const EncodeOptions& o, Candidate* out);

// Codebook candidates for one entropy penalty: the plain reconstruction, then one per residual fraction,
// each correcting the elements with the largest importance-weighted errors of the plain reconstruction.
// `own_banks`: the banks are this tensor's own and are stored with it.
Status CodebookCandidates(const TensorView& t, std::span<const float> w, std::span<const float> imp,
                          const BankSet& banks, bool own_banks, double lambda, std::span<const double> fractions,
                          const EncodeOptions& o, std::vector<Candidate>* out);

}  // namespace sdc
