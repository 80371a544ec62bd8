#include "encoder/enc_candidates.h"

#include <algorithm>
#include <cmath>

#include "decoder/dec_raw.h"
#include "encoder/enc_feedback.h"
#include "encoder/enc_scalar.h"
#include "format/checksum.h"
#include "format/endian.h"
#include "format/float_bits.h"
#include "format/tensor_layout.h"

namespace sdc {
namespace {

// LEB128 gaps between strictly increasing positions (spec: "Codebook representation").
std::vector<uint8_t> EncodePositions(const std::vector<uint64_t>& positions) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < positions.size(); ++i) {
    uint64_t gap = i == 0 ? positions[0] : positions[i] - positions[i - 1] - 1;
    do {
      const uint8_t byte = gap & 0x7f;
      gap >>= 7;
      out.push_back(byte | (gap ? 0x80 : 0));
    } while (gap);
  }
  return out;
}

}  // namespace

Status RawCandidate(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const EncodeOptions& o,
                    Candidate* out) {
  Candidate c;
  c.rep = fb::Representation::RawRep;
  c.stored_dtype = t.dtype;
  std::vector<uint8_t> stored(t.data.begin(), t.data.end());
  if (o.raw_cast && IsLossyCodable(t.dtype) && *o.raw_cast != t.dtype && !w.empty()) {
    c.stored_dtype = *o.raw_cast;
    stored.resize(w.size() * 2);
    for (size_t i = 0; i < w.size(); ++i)
      StoreLE16(stored.data() + 2 * i, c.stored_dtype == DType::kF16 ? FloatToHalf(w[i]) : FloatToBf16(w[i]));
    std::vector<uint8_t> recon(t.data.size());
    SDC_RETURN_IF_ERROR(ReconstructRaw(stored, c.stored_dtype, t.dtype, recon));
    c.recon_xxh64 = Xxh64(recon);
    m.Measure(w, t.dtype, recon, &c.sse, &c.distortion);
  } else {
    c.recon_xxh64 = Xxh64(t.data);
  }
  c.data = MakeSection(fb::SectionKind::TensorData, stored, o.zstd_level);
  *out = std::move(c);
  return Status::Ok();
}

Status ScalarCandidate(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const ScalarSetting& s,
                       const HessianFactor* factor, std::span<const float> code_bits, const EncodeOptions& o,
                       Candidate* out, std::vector<uint8_t>* codes) {
  ScalarCodes q;
  std::vector<float> scales;
  SDC_RETURN_IF_ERROR(ChooseScales(w, RowsOf(t.shape),
                                   {s.bits, o.group_size, s.uniform_step, m.importance, s.relative_step}, &q, &scales));
  FeedbackRequest req;
  req.w = w;
  req.layout = q.layout;
  req.scales = scales;
  req.factor = factor;
  req.lambda = s.lambda;
  req.code_bits = code_bits;
  std::vector<double> damped;
  SDC_RETURN_IF_ERROR(RoundWithFeedback(req, &q.codes, &damped));
  std::vector<uint8_t> recon(t.data.size());
  SDC_RETURN_IF_ERROR(DequantizeScalar(q.layout, q.scales, q.codes, t.dtype, recon));
  Candidate c;
  c.rep = fb::Representation::ScalarRep;
  c.layout = q.layout;
  c.recon_xxh64 = Xxh64(recon);
  if (factor)
    m.Measure(w, t.dtype, recon, &c.sse, &c.distortion, damped, factor->added);
  else
    m.Measure(w, t.dtype, recon, &c.sse, &c.distortion);
  c.scales = MakeSection(fb::SectionKind::Scales, q.scales, o.zstd_level);
  // Order-0 rANS suits codes that look i.i.d.; zstd wins where rows repeat (untrained embedding rows).
  c.codes = MakeSection(fb::SectionKind::Codes, q.codes, o.zstd_level, 1);
  if (codes) *codes = std::move(q.codes);
  *out = std::move(c);
  return Status::Ok();
}

Status CodebookCandidates(const TensorView& t, std::span<const float> w, const ErrorMeasure& m, const BankSet& banks,
                          bool own_banks, double lambda, std::span<const double> fractions, const EncodeOptions& o,
                          std::vector<Candidate>* out) {
  const std::span<const float> imp = m.importance;
  CodebookCodes codes;
  // The search weighs errors by the user's importance only: the default relative weighting is constant per
  // row, which the per-row scales already normalise away (and the unweighted search is much faster).
  const bool user_importance = o.importance.count(t.name) > 0;
  const CodebookInput input{w, RowsOf(t.shape), user_importance ? imp : std::span<const float>()};
  SDC_RETURN_IF_ERROR(EncodeWithBanks(input, banks, o.codebook, lambda, &codes));
  std::vector<BankView> views;
  for (const auto& e : banks.entries) views.push_back({e, banks.k});
  std::vector<std::span<const uint8_t>> streams(codes.indices.begin(), codes.indices.end());
  Candidate base;
  base.rep = fb::Representation::CodebookRep;
  base.cb_layout = codes.layout;
  base.coefficients = codes.coefficients;
  base.scales = MakeSection(fb::SectionKind::Scales, codes.scales, o.zstd_level);
  for (const auto& idx : codes.indices)
    base.indices.push_back(MakeSection(fb::SectionKind::Indices, idx, o.zstd_level, codes.layout.index_bytes));
  if (own_banks)
    for (const auto& e : banks.entries)
      base.own_banks.push_back(MakeSection(fb::SectionKind::Bank, SerializeBank(e), o.zstd_level));

  std::vector<uint8_t> recon(t.data.size());
  SDC_RETURN_IF_ERROR(
      DequantizeCodebook(codes.layout, views, codes.coefficients, codes.scales, streams, nullptr, t.dtype, recon));
  // Errors of the plain reconstruction, largest (weighted) first; ties by position.
  std::vector<float> err(w.size());
  for (size_t i = 0; i < w.size(); ++i) err[i] = w[i] - LoadAsFloat(t.dtype, recon.data() + i * DTypeSize(t.dtype));
  std::vector<uint64_t> order;
  for (double f : fractions) {
    const uint64_t count = std::min<uint64_t>(w.size(), static_cast<uint64_t>(std::llround(f * w.size())));
    Candidate c = base;
    if (count == 0) {
      c.recon_xxh64 = Xxh64(recon);
      m.Measure(w, t.dtype, recon, &c.sse, &c.distortion);
      out->push_back(std::move(c));
      continue;
    }
    if (order.empty()) {
      order.resize(w.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      auto key = [&](uint64_t i) { return (imp.empty() ? 1.0f : imp[i]) * err[i] * err[i]; };
      std::stable_sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) { return key(a) > key(b); });
    }
    std::vector<uint64_t> positions(order.begin(), order.begin() + count);
    std::sort(positions.begin(), positions.end());
    float emax = 0;
    for (uint64_t p : positions) emax = std::max(emax, std::fabs(err[p]));
    const float step = emax > 0 ? emax / 127.0f : 1.0f;
    std::vector<uint8_t> values(count);
    for (size_t k = 0; k < count; ++k)
      values[k] = static_cast<uint8_t>(
          static_cast<int8_t>(std::clamp(std::nearbyint(err[positions[k]] / step), -127.0f, 127.0f)));
    std::vector<uint8_t> pos_bytes = EncodePositions(positions);
    const ResidualView rv{count, pos_bytes, values, step};
    std::vector<uint8_t> fixed(t.data.size());
    SDC_RETURN_IF_ERROR(
        DequantizeCodebook(codes.layout, views, codes.coefficients, codes.scales, streams, &rv, t.dtype, fixed));
    c.residual = ResidualPart{count, step, MakeSection(fb::SectionKind::ResidualPositions, pos_bytes, o.zstd_level, 1),
                              MakeSection(fb::SectionKind::ResidualValues, values, o.zstd_level, 1)};
    c.recon_xxh64 = Xxh64(fixed);
    m.Measure(w, t.dtype, fixed, &c.sse, &c.distortion);
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

}  // namespace sdc
