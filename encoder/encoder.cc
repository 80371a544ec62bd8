#include "encoder/encoder.h"

#include <fnmatch.h>

#include <algorithm>
#include <cmath>
#include <list>
#include <memory>

#include "decoder/dec_container.h"
#include "decoder/dec_raw.h"
#include "decoder/dec_scalar.h"
#include "encoder/enc_budget.h"
#include "encoder/enc_container.h"
#include "encoder/enc_input.h"
#include "encoder/enc_scalar.h"
#include "format/checksum.h"
#include "format/endian.h"
#include "format/float_bits.h"
#include "format/roles.h"
#include "format/tensor_layout.h"

namespace sdc {

double TensorSummary::snr_db() const {
  if (sse == 0) return INFINITY;
  return 10.0 * std::log10(signal / sse);
}

namespace {

constexpr int kMinBits = 2, kMaxBits = 8;

// One way to store one tensor: its sections and what they reconstruct to.
struct Candidate {
  fb::Representation rep = fb::Representation::RawRep;
  DType stored_dtype = DType::kF32;  // raw
  ScalarLayout layout;               // scalar
  CodebookLayout cb_layout;          // codebook
  std::vector<float> coefficients;   // codebook
  bool own_banks = false;            // codebook: banks are this tensor's own
  uint64_t residual_count = 0;       // codebook: sparse residual corrections (sections at the end)
  float residual_step = 0;
  // raw: [data]; scalar: [scales, codes];
  // codebook: [scales, indices x M, (own banks x M), (residual positions, residual values)]
  std::vector<SectionData> sections;
  uint64_t recon_xxh64 = 0;
  double sse = 0;
  double distortion = 0;  // importance-weighted
  uint64_t bytes() const {
    uint64_t b = 0;
    for (const SectionData& s : sections) b += s.stored.size();
    return b;
  }
};

struct PlannedTensor {
  const TensorView* view = nullptr;
  std::vector<float> importance;  // empty, or one weight per element
  Role role = Role::kOther;
  uint8_t role_source = 0;
  uint64_t numel = 0;
  double signal = 0;
  std::vector<Candidate> candidates;
};

float LoadAsFloat(DType t, const uint8_t* p) {
  if (t == DType::kF16) return HalfToFloat(LoadLE16(p));
  if (t == DType::kBF16) return Bf16ToFloat(LoadLE16(p));
  return BitsFloat(LoadLE32(p));
}

// Squared error (plain and importance-weighted) between the original values and a reconstruction in
// `dtype`, stored into the candidate.
void SetError(std::span<const float> w, std::span<const float> imp, DType dtype, std::span<const uint8_t> recon,
              double* sse, double* distortion) {
  const size_t size = DTypeSize(dtype);
  double e = 0, we = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = static_cast<double>(w[i]) - LoadAsFloat(dtype, recon.data() + i * size);
    e += d * d;
    we += imp.empty() ? d * d : imp[i] * d * d;
  }
  *sse = e;
  *distortion = we;
}

Status RawCandidate(const TensorView& t, std::span<const float> w, std::span<const float> imp, const EncodeOptions& o,
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
    SetError(w, imp, t.dtype, recon, &c.sse, &c.distortion);
  } else {
    c.recon_xxh64 = Xxh64(t.data);
  }
  c.sections.push_back(MakeSection(fb::SectionKind::TensorData, stored, o.zstd_level));
  *out = std::move(c);
  return Status::Ok();
}

Status ScalarCandidate(const TensorView& t, std::span<const float> w, std::span<const float> imp, int bits,
                       float uniform_step, const EncodeOptions& o, Candidate* out) {
  ScalarCodes q;
  SDC_RETURN_IF_ERROR(QuantizeScalar(w, RowsOf(t.shape), {bits, o.group_size, uniform_step, imp}, &q));
  std::vector<uint8_t> recon(t.data.size());
  SDC_RETURN_IF_ERROR(DequantizeScalar(q.layout, q.scales, q.codes, t.dtype, recon));
  Candidate c;
  c.rep = fb::Representation::ScalarRep;
  c.layout = q.layout;
  c.recon_xxh64 = Xxh64(recon);
  SetError(w, imp, t.dtype, recon, &c.sse, &c.distortion);
  c.sections.push_back(MakeSection(fb::SectionKind::Scales, q.scales, o.zstd_level));
  // Order-0 rANS suits codes that look i.i.d.; zstd wins where rows repeat (untrained embedding rows).
  c.sections.push_back(MakeSection(fb::SectionKind::Codes, q.codes, o.zstd_level, 1));
  *out = std::move(c);
  return Status::Ok();
}

// Banks shared by every codebook-coded tensor, trained once over all of them.
struct SharedBanks {
  BankSet banks;
  std::vector<SectionData> sections;  // one per bank
  bool trained = false;
};

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

// Codebook candidates for one penalty: the plain reconstruction, then one per residual fraction, each
// correcting the elements with the largest importance-weighted errors of the plain reconstruction.
Status CodebookCandidates(const TensorView& t, std::span<const float> w, std::span<const float> imp,
                          const BankSet& banks, bool own_banks, double lambda, std::span<const double> fractions,
                          const EncodeOptions& o, std::vector<Candidate>* out) {
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
  base.own_banks = own_banks;
  base.sections.push_back(MakeSection(fb::SectionKind::Scales, codes.scales, o.zstd_level));
  for (const auto& idx : codes.indices)
    base.sections.push_back(MakeSection(fb::SectionKind::Indices, idx, o.zstd_level, codes.layout.index_bytes));
  if (own_banks)
    for (const auto& e : banks.entries)
      base.sections.push_back(MakeSection(fb::SectionKind::Bank, SerializeBank(e), o.zstd_level));

  std::vector<uint8_t> recon(t.data.size());
  SDC_RETURN_IF_ERROR(DequantizeCodebook(codes.layout, views, codes.coefficients, codes.scales, streams, nullptr,
                                         t.dtype, recon));
  // Errors of the plain reconstruction, largest (weighted) first; ties by position.
  std::vector<float> err(w.size());
  for (size_t i = 0; i < w.size(); ++i) err[i] = w[i] - LoadAsFloat(t.dtype, recon.data() + i * DTypeSize(t.dtype));
  std::vector<uint64_t> order;
  for (double f : fractions) {
    const uint64_t count = std::min<uint64_t>(w.size(), static_cast<uint64_t>(std::llround(f * w.size())));
    Candidate c = base;
    if (count == 0) {
      c.recon_xxh64 = Xxh64(recon);
      SetError(w, imp, t.dtype, recon, &c.sse, &c.distortion);
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
      values[k] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(std::nearbyint(err[positions[k]] / step), -127.0f, 127.0f)));
    std::vector<uint8_t> pos_bytes = EncodePositions(positions);
    const ResidualView rv{count, pos_bytes, values, step};
    std::vector<uint8_t> fixed(t.data.size());
    SDC_RETURN_IF_ERROR(DequantizeCodebook(codes.layout, views, codes.coefficients, codes.scales, streams, &rv,
                                           t.dtype, fixed));
    c.residual_count = count;
    c.residual_step = step;
    c.sections.push_back(MakeSection(fb::SectionKind::ResidualPositions, pos_bytes, o.zstd_level, 1));
    c.sections.push_back(MakeSection(fb::SectionKind::ResidualValues, values, o.zstd_level, 1));
    c.recon_xxh64 = Xxh64(fixed);
    SetError(w, imp, t.dtype, fixed, &c.sse, &c.distortion);
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

// With a budget or a target SNR the allocator chooses among many candidates per tensor.
bool Searching(const EncodeOptions& o) { return o.budget > 0 || o.target_snr_db > 0; }

bool Quantizable(const TensorView& t, const EncodeOptions& o) {
  uint64_t numel = 0;
  CheckedNumel(t.shape, UINT64_MAX, &numel);
  return o.method != Method::kRaw && IsLossyCodable(t.dtype) && t.shape.size() >= 2 && numel >= o.min_quant_numel;
}

Status ExpandImportance(const TensorView& t, std::span<const float> w, uint64_t numel, const EncodeOptions& o,
                        std::vector<float>* out);

// Banks shared by every quantizable tensor, trained on all their sub-vectors (weighted by the user's
// importance where a tensor has some).
Status TrainSharedBanks(const SafetensorsFile& in, const EncodeOptions& o, SharedBanks* shared) {
  std::list<std::vector<float>> values, importance;  // a list: the inputs' spans must stay valid
  std::vector<CodebookInput> inputs;
  for (const TensorView& t : in.tensors) {
    std::vector<float> w;
    if (!Quantizable(t, o) || !ToFiniteFloats(t, &w) || w.empty()) continue;
    std::vector<float> imp;
    if (o.importance.count(t.name)) {
      uint64_t numel = 0;
      CheckedNumel(t.shape, UINT64_MAX, &numel);
      SDC_RETURN_IF_ERROR(ExpandImportance(t, w, numel, o, &imp).WithContext("tensor '" + t.name + "'"));
    }
    values.push_back(std::move(w));
    importance.push_back(std::move(imp));
    inputs.push_back({values.back(), RowsOf(t.shape), importance.back()});
  }
  if (inputs.empty()) return Status::Ok();
  CodebookSearch search = o.codebook;
  if (o.progress)
    search.progress = [&o, n = inputs.size()](const std::string& msg) {
      o.progress("shared banks (" + std::to_string(n) + " tensors): " + msg);
    };
  SDC_RETURN_IF_ERROR(TrainBanks(inputs, search, &shared->banks));
  for (const auto& e : shared->banks.entries)
    shared->sections.push_back(MakeSection(fb::SectionKind::Bank, SerializeBank(e), o.zstd_level));
  shared->trained = true;
  return Status::Ok();
}

std::pair<Role, uint8_t> ChooseRole(const TensorView& t, const EncodeOptions& o) {
  for (const RoleOverride& r : o.roles)
    if (fnmatch(r.pattern.c_str(), t.name.c_str(), 0) == 0) return {r.role, 1};
  return {InferRole(t.name, t.shape), 0};
}

// Per-element weights of the error the encoder minimises. A tensor listed in options.importance uses those
// (one value, one per column, or one per element). Otherwise, with the default relative distortion, every
// row (output channel) weighs 1 / its mean square: each channel's relative error counts the same, whatever
// its magnitude — the proxy that tracks model loss (downstream norms rescale channels); plain squared error
// would starve small-magnitude tensors. With absolute distortion, unlisted tensors weigh 1 (empty).
Status ExpandImportance(const TensorView& t, std::span<const float> w, uint64_t numel, const EncodeOptions& o,
                        std::vector<float>* out) {
  out->clear();
  const RowLayout rl = RowsOf(t.shape);
  auto it = o.importance.find(t.name);
  if (it == o.importance.end()) {
    if (!o.relative_distortion || w.empty()) return Status::Ok();
    out->resize(numel);
    for (uint64_t r = 0; r < rl.rows; ++r) {
      double ms = 0;
      for (uint64_t c = 0; c < rl.cols; ++c) ms += static_cast<double>(w[r * rl.cols + c]) * w[r * rl.cols + c];
      ms /= static_cast<double>(rl.cols);
      const float weight = ms > 0 ? static_cast<float>(1.0 / ms) : 0.0f;
      std::fill(out->begin() + r * rl.cols, out->begin() + (r + 1) * rl.cols, weight);
    }
    return Status::Ok();
  }
  const std::vector<float>& v = it->second;
  SDC_CHECK(v.size() == 1 || v.size() == rl.cols || v.size() == numel, StatusCode::kInvalidArgument,
            "importance has " + std::to_string(v.size()) + " values; expected 1, " + std::to_string(rl.cols) +
                " (one per column) or " + std::to_string(numel));
  for (float x : v)
    SDC_CHECK(std::isfinite(x) && x >= 0, StatusCode::kInvalidArgument, "importance values must be finite and >= 0");
  out->resize(numel);
  for (uint64_t i = 0; i < numel; ++i) (*out)[i] = v.size() == 1 ? v[0] : v.size() == numel ? v[i] : v[i % rl.cols];
  return Status::Ok();
}

Status PlanTensor(const TensorView& t, const EncodeOptions& o, const SharedBanks& shared, PlannedTensor* p) {
  p->view = &t;
  std::tie(p->role, p->role_source) = ChooseRole(t, o);
  CheckedNumel(t.shape, UINT64_MAX, &p->numel);
  std::vector<float> w;
  const bool finite = ToFiniteFloats(t, &w);
  SDC_RETURN_IF_ERROR(ExpandImportance(t, finite ? std::span<const float>(w) : std::span<const float>(), p->numel, o,
                                       &p->importance));
  const std::span<const float> imp = p->importance;
  if (finite)
    for (float v : w) p->signal += static_cast<double>(v) * v;
  // An empty tensor has no sub-vectors to train a codebook on or to code: under the codebook method it is
  // stored raw (zero bytes).
  if (!finite || !Quantizable(t, o) || (o.method == Method::kCodebook && p->numel == 0)) {
    p->candidates.resize(1);
    return RawCandidate(t, finite ? std::span<const float>(w) : std::span<const float>(), finite ? imp : std::span<const float>(), o, &p->candidates[0]);
  }
  // Scalar candidates: per-group clipped scales at 2..8 bits, and under a budget also uniform steps from
  // about 1 to 8 bits per weight (the allocator chooses, and with codebooks weighs them against those).
  std::vector<std::pair<int, float>> bits;  // (bits, uniform step or 0)
  const bool search = Searching(o);
  if (o.method == Method::kScalar || search)
    for (int b = search ? kMinBits : o.bits; b <= (search ? kMaxBits : o.bits); ++b) bits.push_back({b, 0.0f});
  if (search && !w.empty()) {
    double ss = 0, amax = 0;
    for (float v : w) ss += static_cast<double>(v) * v, amax = std::max(amax, std::fabs(static_cast<double>(v)));
    const double rms = std::sqrt(ss / static_cast<double>(w.size()));
    // Steps on one absolute grid for every tensor (three per octave), so the allocator can give all
    // tensors the same step — the MSE optimum for a common slope — from about 0.5 to 8.5 bits per weight.
    const int k_hi = static_cast<int>(std::floor(-3.0 * std::log2(rms * std::exp2(-8.0))));
    for (int k = k_hi - 22; rms > 0 && k <= k_hi; ++k) {
      const double step = std::exp2(-k / 3.0);
      const double levels = std::ceil(amax / step);  // Q needed to reach the largest weight unclipped
      int b = kMinBits;
      while (b < kMaxBits && (1 << (b - 1)) - 1 < levels) ++b;
      bits.push_back({b, static_cast<float>(step)});
    }
  }
  std::vector<Candidate> scalar(bits.size());
  std::vector<Status> status(bits.size());
  // Candidates are independent; each is computed the same way whatever thread runs it.
#pragma omp parallel for schedule(dynamic) if (bits.size() > 1)
  for (size_t i = 0; i < bits.size(); ++i)
    status[i] = ScalarCandidate(t, w, imp, bits[i].first, bits[i].second, o, &scalar[i]);
  for (const Status& s : status) SDC_RETURN_IF_ERROR(s);
  p->candidates = std::move(scalar);
  if (o.method != Method::kCodebook) return Status::Ok();

  const std::vector<double> lambdas = search ? o.lambdas : std::vector<double>{o.lambda};
  const std::vector<double> fractions =
      search ? o.residual_fractions : std::vector<double>{o.residual_fractions.empty() ? 0.0 : o.residual_fractions[0]};
  BankSet own;
  const BankSet* banks = &shared.banks;
  if (o.per_tensor_banks) {
    const CodebookInput input{w, RowsOf(t.shape), imp};
    SDC_RETURN_IF_ERROR(TrainBanks(std::span<const CodebookInput>(&input, 1), o.codebook, &own));
    banks = &own;
  }
  for (double lambda : lambdas)
    SDC_RETURN_IF_ERROR(
        CodebookCandidates(t, w, imp, *banks, o.per_tensor_banks, lambda, fractions, o, &p->candidates));
  return Status::Ok();
}

std::string Describe(const Candidate& c) {
  if (c.rep == fb::Representation::ScalarRep) return "scalar";
  if (c.rep == fb::Representation::CodebookRep) return "codebook";
  return "raw";
}

Status Assemble(const std::vector<PlannedTensor>& plan, const std::vector<size_t>& pick, const SafetensorsFile& in,
                const SharedBanks& shared, const EncodeOptions& o, EncodeResult* out) {
  ContainerBuilder b;
  out->tensors.clear();
  // Shared banks go in once, and only when some tensor chose them.
  std::vector<uint32_t> shared_ids;
  bool shared_used = false;
  for (size_t i = 0; i < plan.size(); ++i) {
    const Candidate& c = plan[i].candidates[pick[i]];
    shared_used = shared_used || (c.rep == fb::Representation::CodebookRep && !c.own_banks);
  }
  if (shared_used)
    for (const SectionData& sec : shared.sections)
      shared_ids.push_back(b.AddBank(b.AddSection(sec), shared.banks.k, shared.banks.dim));
  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedTensor& p = plan[i];
    const Candidate& c = p.candidates[pick[i]];
    auto t = std::make_unique<fb::TensorT>();
    t->name = p.view->name;
    t->shape = p.view->shape;
    t->dtype = static_cast<fb::DType>(p.view->dtype);
    t->role = static_cast<fb::Role>(p.role);
    t->role_source = p.role_source;
    t->xxh64 = c.recon_xxh64;
    TensorSummary s{p.view->name, p.role, Describe(c), 0, p.numel, c.bytes(), c.sse, c.distortion, p.signal};
    t->snr_db = static_cast<float>(s.snr_db());
    if (c.rep == fb::Representation::RawRep) {
      fb::RawRepT r;
      r.data = b.AddSection(c.sections[0]);
      r.stored_dtype = static_cast<fb::DType>(c.stored_dtype);
      if (c.stored_dtype != p.view->dtype) s.representation = std::string("raw(") + DTypeName(c.stored_dtype) + ")";
      t->rep.Set(std::move(r));
    } else if (c.rep == fb::Representation::CodebookRep) {
      fb::CodebookRepT r;
      const size_t m = c.coefficients.size();
      r.dim = static_cast<uint8_t>(c.cb_layout.dim);
      r.coefficients = c.coefficients;
      r.scale_dtype = static_cast<fb::DType>(c.cb_layout.scale_dtype);
      r.group_size = c.cb_layout.group_size;
      r.scales = b.AddSection(c.sections[0]);
      for (size_t k = 0; k < m; ++k) r.indices.push_back(b.AddSection(c.sections[1 + k]));
      for (size_t k = 0; k < m; ++k)
        r.banks.push_back(c.own_banks ? b.AddBank(b.AddSection(c.sections[1 + m + k]), o.codebook.k, c.cb_layout.dim)
                                      : shared_ids[k]);
      if (c.residual_count) {
        auto res = std::make_unique<fb::SparseResidualT>();
        const size_t at = c.sections.size() - 2;
        res->count = c.residual_count;
        res->positions = b.AddSection(c.sections[at]);
        res->values = b.AddSection(c.sections[at + 1]);
        res->step = c.residual_step;
        r.residual = std::move(res);
      }
      t->rep.Set(std::move(r));
    } else {
      fb::ScalarRepT r;
      r.bits = static_cast<uint8_t>(c.layout.bits);
      r.group_size = c.layout.group_size;
      r.scale_dtype = static_cast<fb::DType>(c.layout.scale_dtype);
      r.scales = b.AddSection(c.sections[0]);
      r.codes = b.AddSection(c.sections[1]);
      s.bits = c.layout.bits;
      t->rep.Set(std::move(r));
    }
    b.AddTensor(std::move(t));
    out->tensors.push_back(std::move(s));
  }
  for (const AssetInput& a : o.assets) b.AddAsset(a.name, b.AddSection(MakeSection(fb::SectionKind::Asset, a.data, o.zstd_level)));
  for (const auto& [k, v] : in.metadata) b.AddMetadata(k, v);
  std::string enc = "sdcodec 0.1.0; method=" +
                    std::string(o.method == Method::kRaw ? "raw" : o.method == Method::kScalar ? "scalar" : "codebook");
  if (o.method == Method::kCodebook)
    enc += "; k=" + std::to_string(o.codebook.k) + "; dim=" + std::to_string(o.codebook.dim) +
           "; codebooks=" + std::to_string(o.codebook.codebooks) + "; banks=" + (o.per_tensor_banks ? "per-tensor" : "shared");
  // The budget itself is in Manifest.budget_bytes; keeping it out of this string keeps the file's size
  // from depending on how many digits the budget has.
  if (o.target_snr_db > 0)
    enc += "; target_snr_db=" + std::to_string(o.target_snr_db);
  else
    enc += "; bits=" + std::to_string(o.bits);
  enc += "; group=" + std::to_string(o.group_size) + "; zstd=" + std::to_string(o.zstd_level);
  if (o.raw_cast) enc += std::string("; raw_cast=") + DTypeName(*o.raw_cast);
  b.SetEncoder(enc);
  b.SetBudget(o.budget);
  b.SetAlignment(o.alignment);
  return b.Finish(&out->file);
}

double TotalError(const EncodeResult& r) {
  double e = 0;
  for (const TensorSummary& t : r.tensors) e += t.distortion;
  return e;
}

// Fits the file into budget - reserve: allocate the bytes left after the fixed parts, build, and if the
// manifest's own size pushed the file over the target, take the overshoot off the allocation and try
// again. `with_shared_banks` offers the shared-bank codebook candidates, with the banks' bytes set aside.
// The allocator prices section bytes only (a candidate's manifest entries are not seen), so when a retry
// finds nothing, or the loop does not settle, the cheapest choice is taken if it fits: every budget at or
// above the smallest encoding's size succeeds. On kBudget, *min_budget is that smallest feasible budget.
Status FitBudget(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
                 const EncodeOptions& o, bool with_shared_banks, EncodeResult* out, uint64_t* min_budget) {
  const uint64_t target = o.budget - o.reserve;
  // Candidate indices offered to the allocator, per tensor.
  std::vector<std::vector<size_t>> offered(plan.size());
  std::vector<std::vector<RatePoint>> choices(plan.size());
  for (size_t i = 0; i < plan.size(); ++i)
    for (size_t k = 0; k < plan[i].candidates.size(); ++k) {
      const Candidate& c = plan[i].candidates[k];
      if (c.rep == fb::Representation::CodebookRep && !c.own_banks && !with_shared_banks) continue;
      offered[i].push_back(k);
      choices[i].push_back({c.bytes(), c.distortion});
    }
  auto to_pick = [&](const std::vector<size_t>& local) {
    std::vector<size_t> pick(plan.size());
    for (size_t i = 0; i < plan.size(); ++i) pick[i] = offered[i][local[i]];
    return pick;
  };
  std::vector<size_t> cheapest(plan.size(), 0);
  for (size_t i = 0; i < plan.size(); ++i)
    for (size_t k = 1; k < choices[i].size(); ++k)
      if (choices[i][k].bytes < choices[i][cheapest[i]].bytes) cheapest[i] = k;
  // The cheapest choice, built with the budget being asked for: success when it fits, else kBudget naming
  // a size that is itself a feasible budget (the manifest records the budget, so it is measured with the
  // budget set to the size being reported).
  auto fall_back = [&]() -> Status {
    SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(cheapest), in, shared, o, out));
    if (out->file.size() <= target) return Status::Ok();
    EncodeOptions probe = o;
    probe.budget = 0;
    // The budget's digits change the compressed manifest by a byte or so: stop at the first budget the
    // file really fits (each round only raises the budget, so this ends).
    for (int round = 0; round < 8; ++round) {
      SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(cheapest), in, shared, probe, out));
      if (probe.budget > 0 && out->file.size() + o.reserve <= probe.budget) break;
      probe.budget = std::max(probe.budget + 1, out->file.size() + o.reserve);
    }
    *min_budget = probe.budget;
    return Error(StatusCode::kBudget, "budget of " + std::to_string(o.budget) + " bytes (reserve " +
                                          std::to_string(o.reserve) + ") cannot be met: the smallest encoding takes " +
                                          std::to_string(out->file.size()) + " bytes (a budget of at least " +
                                          std::to_string(probe.budget) + ")");
  };
  std::vector<size_t> local(plan.size(), 0);
  SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(local), in, shared, o, out));  // measures the fixed overhead
  uint64_t tensor_bytes = 0;
  for (const TensorSummary& s : out->tensors) tensor_bytes += s.stored_bytes;
  uint64_t overhead = out->file.size() - tensor_bytes;
  if (with_shared_banks)
    for (const SectionData& sec : shared.sections) overhead += sec.stored.size();
  uint64_t available = target > overhead ? target - overhead : 0;
  for (int attempt = 0; attempt < 8; ++attempt) {
    if (!AllocateBytes(choices, available, &local)) return fall_back();
    SDC_RETURN_IF_ERROR(Assemble(plan, to_pick(local), in, shared, o, out));
    if (out->file.size() <= target) return Status::Ok();
    // The manifest (compressed) differs a little between choices: take this choice's real overhead, plus
    // a margin that grows with each attempt, so the loop always moves.
    uint64_t chosen = 0;
    for (size_t i = 0; i < plan.size(); ++i) chosen += choices[i][local[i]].bytes;
    const uint64_t real_overhead = out->file.size() - chosen + 16ull * attempt;
    const uint64_t next = target > real_overhead ? target - real_overhead : 0;
    available = std::min(available > 0 ? available - 1 : 0, next);
  }
  return fall_back();
}

// The smallest allocation whose total squared error meets the target SNR (over all float tensors):
// bisect the byte budget given to the allocator. Shared banks' own bytes are not weighed here (they are
// stored once if any tensor uses them): a known simplification.
Status FitSnr(const std::vector<PlannedTensor>& plan, const SafetensorsFile& in, const SharedBanks& shared,
              const EncodeOptions& o, EncodeResult* out) {
  double signal = 0;
  for (const PlannedTensor& p : plan) signal += p.signal;
  const double allowed = signal / std::pow(10.0, o.target_snr_db / 10.0);
  std::vector<std::vector<RatePoint>> choices(plan.size());
  uint64_t lo = 0, hi = 0;
  for (size_t i = 0; i < plan.size(); ++i) {
    uint64_t most = 0, least = UINT64_MAX;
    for (const Candidate& c : plan[i].candidates) {
      choices[i].push_back({c.bytes(), c.sse});
      most = std::max<uint64_t>(most, c.bytes());
      least = std::min<uint64_t>(least, c.bytes());
    }
    lo += least;
    hi += most;
  }
  std::vector<size_t> pick;
  auto error_at = [&](uint64_t bytes) {
    AllocateBytes(choices, bytes, &pick);
    double e = 0;
    for (size_t i = 0; i < plan.size(); ++i) e += choices[i][pick[i]].distortion;
    return e;
  };
  SDC_CHECK(error_at(hi) <= allowed, StatusCode::kBudget,
            "target SNR of " + std::to_string(o.target_snr_db) + " dB is above what the candidates reach");
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo) / 2;
    if (error_at(mid) <= allowed) hi = mid; else lo = mid + 1;
  }
  error_at(hi);
  return Assemble(plan, pick, in, shared, o, out);
}

}  // namespace

Status EncodeUnchecked(const SafetensorsFile& in, const EncodeOptions& o, EncodeResult* out);

// Every file Encode returns opens under the default decoder limits: inputs the format cannot hold (empty,
// duplicate or over-long names, rank above 8, shapes past the limits) are refused here, never written.
Status Encode(const SafetensorsFile& in, const EncodeOptions& o, EncodeResult* out) {
  SDC_RETURN_IF_ERROR(EncodeUnchecked(in, o, out));
  Container check;
  Status s = Container::Open(out->file, DecodeLimits(), &check);
  if (!s.ok()) {
    out->file.clear();
    return Error(StatusCode::kInvalidArgument, "the input cannot be stored: " + s.message());
  }
  return Status::Ok();
}

Status EncodeUnchecked(const SafetensorsFile& in, const EncodeOptions& o, EncodeResult* out) {
  SDC_CHECK(o.bits >= kMinBits && o.bits <= kMaxBits, StatusCode::kInvalidArgument, "bits must be 2..8");
  SDC_CHECK(!o.raw_cast || *o.raw_cast == DType::kF16 || *o.raw_cast == DType::kBF16, StatusCode::kInvalidArgument,
            "raw cast must be F16 or BF16");
  SDC_CHECK(o.zstd_level >= 0 && o.zstd_level <= 22, StatusCode::kInvalidArgument, "zstd level must be 0..22");
  SDC_CHECK(o.budget == 0 || o.reserve < o.budget, StatusCode::kInvalidArgument, "reserve must be below the budget");
  SharedBanks shared;
  if (o.method == Method::kCodebook && !o.per_tensor_banks) SDC_RETURN_IF_ERROR(TrainSharedBanks(in, o, &shared));
  std::vector<PlannedTensor> plan(in.tensors.size());
  for (size_t i = 0; i < plan.size(); ++i) {
    if (o.progress)
      o.progress("[" + std::to_string(i + 1) + "/" + std::to_string(plan.size()) + "] " + in.tensors[i].name);
    SDC_RETURN_IF_ERROR(
        PlanTensor(in.tensors[i], o, shared, &plan[i]).WithContext("tensor '" + in.tensors[i].name + "'"));
  }

  std::vector<size_t> pick(plan.size(), 0);
  if (o.budget == 0 && o.target_snr_db > 0) return FitSnr(plan, in, shared, o, out);
  if (o.budget == 0) return Assemble(plan, pick, in, shared, o, out);
  uint64_t min_budget = 0;
  if (!shared.trained) return FitBudget(plan, in, shared, o, false, out, &min_budget);
  // Shared banks cost bytes only when some tensor uses them, which a per-tensor allocator cannot see: fit
  // once without them and once with their bytes set aside, and keep the file with the smaller error.
  EncodeResult without, with;
  uint64_t min_without = UINT64_MAX, min_with = UINT64_MAX;
  Status a = FitBudget(plan, in, shared, o, false, &without, &min_without);
  Status b = FitBudget(plan, in, shared, o, true, &with, &min_with);
  // Neither fits: name the smaller of the two smallest encodings (a codebook file with shared banks can
  // be the smaller one).
  if (!a.ok() && !b.ok()) return b.code() == StatusCode::kBudget && min_with < min_without ? b : a;
  const bool use_with = b.ok() && (!a.ok() || TotalError(with) < TotalError(without));
  *out = std::move(use_with ? with : without);
  return Status::Ok();
}

}  // namespace sdc
