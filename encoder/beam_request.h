// One additive-code beam search, as every layer passes it on: the codebook search (enc_codebook.cc), the
// device dispatcher (device.h), the CUDA kernels (cuda/beam_cuda.cu) and their CPU emulation. For each of
// the n = x.size() / d vectors it finds M codes, one entry per bank, keeping the `beam` best partial sums
// after each stage by cost = (weighted) squared residual + lambda * code lengths in bits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "encoder/cuda/kernel_math.h"
#include "format/status.h"

namespace sdc {

struct BeamRequest {
  std::span<const float> x;        // n vectors of d values
  uint32_t d = 0;                  // vector dimension
  uint32_t k = 0;                  // entries per bank
  uint32_t m_count = 0;            // banks (M)
  std::span<const float> banks;    // M * k * d: entry j of bank m at (m * k + j) * d
  std::span<const float> alpha;    // M mixing coefficients
  uint32_t beam = 1;               // partial sums kept between stages
  double lambda = 0;               // weight of a code's length in bits
  std::span<const float> bits;     // M * k code lengths, or empty: no length term
  std::span<const float> weights;  // one per element of x, or empty (unweighted); the CPU search only

  size_t vectors() const { return d ? x.size() / d : 0; }

  // The sizes agree with each other and with `codes` (n * M entries, codes[v * M + m]).
  Status Check(std::span<const uint32_t> codes) const {
    SDC_CHECK(d >= 1 && k >= 1 && m_count >= 1 && beam >= 1, StatusCode::kInvalidArgument,
              "beam search: d, k, M and beam must be at least 1");
    SDC_CHECK(x.size() % d == 0 && banks.size() == static_cast<size_t>(m_count) * k * d && alpha.size() == m_count &&
                  (bits.empty() || bits.size() == static_cast<size_t>(m_count) * k) &&
                  (weights.empty() || weights.size() == x.size()) && codes.size() >= vectors() * m_count,
              StatusCode::kInvalidArgument, "beam search: inconsistent sizes");
    return Status::Ok();
  }

  // The kernels' view of the request (kmath::BeamSearchVector), with the arrays at the given addresses:
  // the request's own, or their copies on a device.
  kmath::BeamProblem Problem(const float* banks_at, const float* alpha_at, const float* bits_at) const {
    kmath::BeamProblem p;
    p.banks = banks_at;
    p.alpha = alpha_at;
    p.bits = bits.empty() ? nullptr : bits_at;
    p.lambda = lambda;
    p.d = d;
    p.k = k;
    p.m_count = m_count;
    p.beam = beam;
    return p;
  }
};

}  // namespace sdc
