#include "encoder/enc_codebook.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "encoder/beam_request.h"
#include "encoder/enc_kmeans.h"
#include "format/endian.h"
#include "format/float_bits.h"

namespace sdc {
namespace {

float RoundF16(float v) { return HalfToFloat(FloatToHalf(v)); }
bool FitsF16(float s) { return s == 0.0f || (s >= 6.103515625e-05f && s <= 65504.0f); }

// A tensor cut into padded sub-vectors and divided by its per-group RMS scales.
struct Normalized {
  std::vector<float> x;       // rows * vpr * dim, padding zero
  std::vector<float> scales;  // rows * gpr, as they would be stored
  DType scale_dtype = DType::kF16;
  uint64_t vpr = 0, gpr = 0, group = 0;
};

Normalized Normalize(const CodebookInput& in, uint32_t dim, uint32_t group_size) {
  Normalized n;
  const uint64_t rows = in.rows.rows, cols = in.rows.cols;
  n.vpr = VectorsPerRow(cols, dim);
  n.gpr = GroupsPerRow(cols, group_size);
  n.group = group_size == 0 ? cols : group_size;
  n.scales.assign(rows * n.gpr, 0.0f);
  std::vector<double> raw(rows * n.gpr, 0.0);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t g = 0; g < n.gpr; ++g) {
      const uint64_t c0 = g * n.group, c1 = std::min(cols, c0 + n.group);
      double ss = 0;
      for (uint64_t c = c0; c < c1; ++c) ss += static_cast<double>(in.w[r * cols + c]) * in.w[r * cols + c];
      raw[r * n.gpr + g] = std::sqrt(ss / static_cast<double>(c1 - c0));
    }
  bool f16 = true;
  for (double s : raw) f16 = f16 && FitsF16(RoundF16(static_cast<float>(s)));
  n.scale_dtype = f16 ? DType::kF16 : DType::kF32;
  for (size_t i = 0; i < raw.size(); ++i)
    n.scales[i] = f16 ? RoundF16(static_cast<float>(raw[i])) : static_cast<float>(raw[i]);
  n.x.assign(rows * n.vpr * dim, 0.0f);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const float s = n.scales[r * n.gpr + c / n.group];
      n.x[r * n.vpr * dim + c] = s > 0 ? in.w[r * cols + c] / s : 0.0f;
    }
  return n;
}

// Per-element weights of the error in the normalised domain, laid out like Normalized::x: an element's
// error there is its real error divided by its group's scale squared, so its weight is importance * s^2,
// scaled to mean 1 over the real elements (the entropy penalty keeps its meaning); padding weighs 0.
// Empty without importance, or when every weight is zero (then the search is unweighted).
std::vector<float> NormalizedWeights(const CodebookInput& in, const Normalized& n, uint32_t dim) {
  if (in.importance.empty()) return {};
  const uint64_t rows = in.rows.rows, cols = in.rows.cols;
  std::vector<float> w(n.x.size(), 0.0f);
  double sum = 0;
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const double s = n.scales[r * n.gpr + c / n.group];
      const double v = static_cast<double>(in.importance[r * cols + c]) * s * s;
      w[r * n.vpr * dim + c] = static_cast<float>(v);
      sum += v;
    }
  if (!(sum > 0) || !std::isfinite(sum)) return {};
  const double scale = static_cast<double>(rows * cols) / sum;
  for (float& v : w) v = static_cast<float>(v * scale);
  return w;
}

// Code lengths in bits from an index histogram (add-half smoothing so unseen entries stay reachable).
std::vector<float> CodeBits(const uint32_t* codes, size_t n, size_t stride, uint32_t k) {
  std::vector<double> count(k, 0.5);
  for (size_t i = 0; i < n; ++i) count[codes[i * stride]] += 1.0;
  const double total = static_cast<double>(n) + 0.5 * k;
  std::vector<float> bits(k);
  for (uint32_t j = 0; j < k; ++j) bits[j] = static_cast<float>(-std::log2(count[j] / total));
  return bits;
}

// Every bank's entries in one array, bank after bank (BeamRequest::banks).
std::vector<float> FlatBanks(const BankSet& b) {
  std::vector<float> flat;
  for (const auto& e : b.entries) flat.insert(flat.end(), e.begin(), e.end());
  return flat;
}

// A beam search over `banks` (flattened into `flat`) without code lengths or weights; callers add those.
BeamRequest Request(std::span<const float> x, uint32_t d, const BankSet& banks, std::span<const float> flat,
                    std::span<const float> alpha, int beam) {
  BeamRequest r;
  r.x = x;
  r.d = d;
  r.k = banks.k;
  r.m_count = static_cast<uint32_t>(banks.entries.size());
  r.banks = flat;
  r.alpha = alpha;
  r.beam = static_cast<uint32_t>(std::max(beam, 1));
  return r;
}

// Stage-by-stage nearest entry (beam 1), each stage on the residual of the previous ones, through the
// blocked k-means kernel (or the GPU's, encoder/device.h). The entropy penalty folds into the distance
// with one extra coordinate: x' = (x, 0), c'_j = (c_j, sqrt(lambda * bits_j)) gives
// |x' - c'_j|^2 = |x - c_j|^2 + lambda * bits_j.
Status GreedyAssign(Placement where, const BeamRequest& r, uint32_t* codes) {
  const size_t n = r.vectors(), m_count = r.m_count;
  const uint32_t d = r.d, k = r.k;
  const bool penalty = !r.bits.empty() && r.lambda > 0;
  std::vector<float> residual(r.x.begin(), r.x.end()), centroids(static_cast<size_t>(k) * d), pen(penalty ? k : 0);
  std::vector<uint32_t> assign(n);
  for (size_t m = 0; m < m_count; ++m) {
    const float* bank = r.banks.data() + m * k * d;
    for (uint32_t j = 0; j < k; ++j) {
      for (uint32_t t = 0; t < d; ++t) centroids[j * d + t] = r.alpha[m] * bank[j * d + t];
      if (penalty) pen[j] = static_cast<float>(std::sqrt(r.lambda * r.bits[m * k + j]));
    }
    SDC_RETURN_IF_ERROR(AssignNearestOn(where, residual, d, centroids, pen, assign, {}));
    for (size_t v = 0; v < n; ++v) {
      codes[v * m_count + m] = assign[v];
      for (uint32_t t = 0; t < d; ++t) residual[v * d + t] -= centroids[assign[v] * d + t];
    }
  }
  return Status::Ok();
}

struct Hypothesis {
  double cost;
  std::vector<float> residual;
  std::vector<uint32_t> codes;
};

// Beam search over M banks for each vector: keeps the `beam` best partial sums after each stage.
// cost = squared residual + lambda * sum of code lengths (bits may be empty: no penalty). With weights
// (one per element of x) the squared residual is weighted element by element; that search runs on the CPU
// only, as this loop, whatever the beam. Otherwise, on a GPU the same search runs as
// kmath::BeamSearchVector (encoder/cuda/kernel_math.h): same codes.
Status BeamAssign(Placement where, const BeamRequest& r, uint32_t* codes) {
  const bool weighted = !r.weights.empty();
  if (!weighted && (r.beam <= 1 || r.m_count == 1)) return GreedyAssign(where, r, codes);
  const int64_t n = static_cast<int64_t>(r.vectors());
  const size_t m_count = r.m_count;
  const uint32_t k = r.k, d = r.d;
  if (where.gpu && !weighted)
    return where.gpu->BeamAssign(r, std::span<uint32_t>(codes, static_cast<size_t>(n) * m_count));
#pragma omp parallel
  {
    std::vector<Hypothesis> hyps, next;
    std::vector<std::pair<double, std::pair<int, uint32_t>>> cand;
#pragma omp for schedule(dynamic, 256)
    for (int64_t v = 0; v < n; ++v) {
      const float* xv = r.x.data() + v * d;
      const float* wv = weighted ? r.weights.data() + v * d : nullptr;
      hyps.assign(1, Hypothesis{0.0, std::vector<float>(xv, xv + d), {}});
      for (size_t m = 0; m < m_count; ++m) {
        const float a = r.alpha[m];
        const float* bank = r.banks.data() + m * k * d;
        const float* bits = r.bits.empty() ? nullptr : r.bits.data() + m * k;
        cand.clear();
        for (int h = 0; h < static_cast<int>(hyps.size()); ++h) {
          const float* res = hyps[h].residual.data();
          for (uint32_t j = 0; j < k; ++j) {
            double e = 0;
            for (uint32_t t = 0; t < d; ++t) {
              const float diff = res[t] - a * bank[j * d + t];
              e += (wv ? static_cast<double>(wv[t]) : 1.0) * diff * diff;
            }
            if (bits) e += r.lambda * bits[j];
            cand.push_back({hyps[h].cost + e, {h, j}});
          }
        }
        // For stages before the last, the cost so far excludes later stages; the residual error is what
        // later stages reduce, so ranking by (penalty so far + current residual) is the standard AQ beam.
        const size_t keep = std::min<size_t>(m + 1 == m_count ? 1 : r.beam, cand.size());
        std::partial_sort(cand.begin(), cand.begin() + keep, cand.end(), [](const auto& p, const auto& q) {
          return p.first < q.first || (p.first == q.first && p.second < q.second);
        });
        next.clear();
        for (size_t c = 0; c < keep; ++c) {
          const auto [h, j] = cand[c].second;
          Hypothesis nh{0.0, hyps[h].residual, hyps[h].codes};
          for (uint32_t t = 0; t < d; ++t) nh.residual[t] -= a * bank[j * d + t];
          nh.codes.push_back(j);
          // Carry only the penalty part forward: the residual's error is recomputed at the next stage.
          nh.cost = hyps[h].cost + (bits ? r.lambda * bits[j] : 0.0);
          next.push_back(std::move(nh));
        }
        hyps.swap(next);
      }
      for (size_t m = 0; m < m_count; ++m) codes[v * m_count + m] = hyps[0].codes[m];
    }
  }
  return Status::Ok();
}

// Least-squares update of bank m given all codes: each entry becomes the mean of what the other stages
// leave unexplained for the vectors that use it (entries nobody uses keep their value).
void UpdateBank(std::span<const float> x, uint32_t d, const std::vector<uint32_t>& codes, size_t m, BankSet* b) {
  const size_t n = x.size() / d, m_count = b->entries.size();
  std::vector<double> sum(static_cast<size_t>(b->k) * d, 0.0);
  std::vector<uint64_t> count(b->k, 0);
  for (size_t v = 0; v < n; ++v) {
    const uint32_t j = codes[v * m_count + m];
    ++count[j];
    for (uint32_t t = 0; t < d; ++t) {
      double target = x[v * d + t];
      for (size_t o = 0; o < m_count; ++o)
        if (o != m) target -= b->entries[o][codes[v * m_count + o] * d + t];
      sum[j * d + t] += target;
    }
  }
  for (uint32_t j = 0; j < b->k; ++j)
    if (count[j])
      for (uint32_t t = 0; t < d; ++t) b->entries[m][j * d + t] = static_cast<float>(sum[j * d + t] / count[j]);
}

// Solves the M x M (weighted, when `weights` holds one per element) normal equations for the mixing
// coefficients; falls back to all ones if singular.
std::vector<float> FitCoefficients(std::span<const float> x, uint32_t d, const BankSet& b,
                                   const std::vector<uint32_t>& codes, std::span<const float> weights) {
  const size_t m_count = b.entries.size(), n = x.size() / d;
  std::vector<double> a(m_count * m_count, 0.0), rhs(m_count, 0.0);
  for (size_t v = 0; v < n; ++v)
    for (size_t p = 0; p < m_count; ++p) {
      const float* cp = b.entries[p].data() + codes[v * m_count + p] * d;
      for (uint32_t t = 0; t < d; ++t) {
        const double wt = weights.empty() ? 1.0 : weights[v * d + t];
        rhs[p] += wt * x[v * d + t] * cp[t];
      }
      for (size_t q = 0; q < m_count; ++q) {
        const float* cq = b.entries[q].data() + codes[v * m_count + q] * d;
        for (uint32_t t = 0; t < d; ++t)
          a[p * m_count + q] += (weights.empty() ? 1.0 : static_cast<double>(weights[v * d + t])) * cp[t] * cq[t];
      }
    }
  // Gaussian elimination with partial pivoting (M <= 8).
  std::vector<float> alpha(m_count, 1.0f);
  for (size_t col = 0; col < m_count; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < m_count; ++r)
      if (std::fabs(a[r * m_count + col]) > std::fabs(a[piv * m_count + col])) piv = r;
    if (std::fabs(a[piv * m_count + col]) < 1e-12) return alpha;
    for (size_t c = 0; c < m_count; ++c) std::swap(a[col * m_count + c], a[piv * m_count + c]);
    std::swap(rhs[col], rhs[piv]);
    for (size_t r = 0; r < m_count; ++r) {
      if (r == col) continue;
      const double f = a[r * m_count + col] / a[col * m_count + col];
      for (size_t c = 0; c < m_count; ++c) a[r * m_count + c] -= f * a[col * m_count + c];
      rhs[r] -= f * rhs[col];
    }
  }
  for (size_t p = 0; p < m_count; ++p) {
    const double v = rhs[p] / a[p * m_count + p];
    alpha[p] = std::isfinite(v) ? static_cast<float>(v) : 1.0f;
  }
  return alpha;
}

}  // namespace

std::vector<uint8_t> SerializeBank(std::span<const float> entries) {
  std::vector<uint8_t> out(entries.size() * 2);
  for (size_t i = 0; i < entries.size(); ++i) StoreLE16(out.data() + 2 * i, FloatToHalf(entries[i]));
  return out;
}

Status TrainBanks(std::span<const CodebookInput> inputs, const CodebookSearch& s, BankSet* out) {
  SDC_CHECK(s.dim >= 1 && s.dim <= 16 && s.k >= 1 && s.k <= 65536 && s.codebooks >= 1 && s.codebooks <= 8,
            StatusCode::kInvalidArgument, "codebook: dim 1..16, k 1..65536 and 1..8 codebooks");
  const uint32_t d = s.dim;
  Placement where;
  SDC_RETURN_IF_ERROR(Place(s.device, s.gpu, &where));
  // Training set: every input's normalised sub-vectors, thinned by a fixed stride when there are too many.
  uint64_t total = 0;
  std::vector<Normalized> norm;
  for (const CodebookInput& in : inputs) {
    norm.push_back(Normalize(in, d, s.group_size));
    total += norm.back().x.size() / d;
  }
  SDC_CHECK(total > 0, StatusCode::kInvalidArgument, "codebook: no vectors to train on");
  const uint64_t stride = (total + s.max_training_vectors - 1) / s.max_training_vectors;
  std::vector<float> x, weights;
  bool weighted = false;
  std::vector<std::vector<float>> element_weights;
  for (size_t t = 0; t < norm.size(); ++t) {
    element_weights.push_back(NormalizedWeights(inputs[t], norm[t], d));
    weighted = weighted || !element_weights.back().empty();
  }
  uint64_t index = 0;
  for (size_t t = 0; t < norm.size(); ++t) {
    const Normalized& nt = norm[t];
    const std::vector<float>& ew = element_weights[t];
    const uint64_t cols = inputs[t].rows.cols;
    for (size_t v = 0; v < nt.x.size() / d; ++v, ++index) {
      if (index % stride) continue;
      x.insert(x.end(), nt.x.begin() + v * d, nt.x.begin() + (v + 1) * d);
      if (!weighted) continue;
      // A sub-vector's k-means weight: the mean weight of its real elements (1 for inputs without any).
      const uint64_t c0 = (v % nt.vpr) * d, real = std::min<uint64_t>(cols, c0 + d) - c0;
      double sum = 0;
      for (uint64_t e = 0; e < real; ++e) sum += ew.empty() ? 1.0 : ew[v * d + e];
      weights.push_back(static_cast<float>(sum / static_cast<double>(real)));
    }
  }
  const size_t n = x.size() / d;
  double weight_sum = 0;
  for (float wv : weights) weight_sum += wv;
  if (weighted && weight_sum <= 0) weights.clear();  // all-zero importance: train unweighted

  BankSet b;
  b.k = s.k;
  b.dim = d;
  std::vector<float> residual = x;
  std::vector<uint32_t> codes(n * s.codebooks);
  for (int m = 0; m < s.codebooks; ++m) {
    KMeansOptions ko;
    ko.k = static_cast<int>(s.k);
    ko.iterations = s.kmeans_iterations;
    ko.seed = s.seed + m;
    if (s.progress)
      ko.progress = [&s, m](int it, double mse) {
        s.progress("codebook " + std::to_string(m + 1) + " k-means iteration " + std::to_string(it) + ", mse " +
                   std::to_string(mse));
      };
    KMeansResult km;
    SDC_RETURN_IF_ERROR(KMeansOn(where, residual, d, weights, ko, &km));
    km.centroids.resize(static_cast<size_t>(s.k) * d, 0.0f);  // k > n: unused entries are zero
    for (size_t v = 0; v < n; ++v) {
      codes[v * s.codebooks + m] = km.assign[v];
      for (uint32_t t = 0; t < d; ++t) residual[v * d + t] -= km.centroids[km.assign[v] * d + t];
    }
    b.entries.push_back(std::move(km.centroids));
  }
  const std::vector<float> ones(s.codebooks, 1.0f);
  for (int round = 0; s.codebooks > 1 && round < s.refine_rounds; ++round) {
    const std::vector<float> flat = FlatBanks(b);
    SDC_RETURN_IF_ERROR(BeamAssign(where, Request(x, d, b, flat, ones, s.beam), codes.data()));
    for (int m = 0; m < s.codebooks; ++m) UpdateBank(x, d, codes, m, &b);
  }
  for (auto& e : b.entries)
    for (float& v : e) v = RoundF16(v);
  *out = std::move(b);
  return Status::Ok();
}

Status EncodeWithBanks(const CodebookInput& in, const BankSet& b, const CodebookSearch& s, double lambda,
                       CodebookCodes* out) {
  const uint32_t d = b.dim;
  const size_t m_count = b.entries.size();
  Placement where;
  SDC_RETURN_IF_ERROR(Place(s.device, s.gpu, &where));
  Normalized n = Normalize(in, d, s.group_size);
  const size_t nv = n.x.size() / d;
  // With importance, codes, coefficients and scales all minimise the importance-weighted error.
  const std::vector<float> weights = NormalizedWeights(in, n, d);
  std::vector<uint32_t> codes(nv * m_count);
  const std::vector<float> ones(m_count, 1.0f), flat = FlatBanks(b);
  BeamRequest req = Request(n.x, d, b, flat, ones, s.beam);
  req.weights = weights;
  SDC_RETURN_IF_ERROR(BeamAssign(where, req, codes.data()));
  // Entropy-constrained passes: code lengths from the previous pass's histogram.
  for (int pass = 0; lambda > 0 && pass < 2; ++pass) {
    std::vector<float> bits;
    for (size_t m = 0; m < m_count; ++m) {
      const std::vector<float> stage = CodeBits(codes.data() + m, nv, m_count, b.k);
      bits.insert(bits.end(), stage.begin(), stage.end());
    }
    req.lambda = lambda;
    req.bits = bits;
    SDC_RETURN_IF_ERROR(BeamAssign(where, req, codes.data()));
  }
  std::vector<float> alpha = m_count > 1 ? FitCoefficients(n.x, d, b, codes, weights) : ones;

  // Re-fit each group's scale by least squares against the reconstruction shape, computed with the
  // decoder's binary32 arithmetic.
  const uint64_t rows = in.rows.rows, cols = in.rows.cols;
  std::vector<double> xy(n.scales.size(), 0.0), yy(n.scales.size(), 0.0);
  for (uint64_t r = 0; r < rows; ++r)
    for (uint64_t c = 0; c < cols; ++c) {
      const uint64_t v = r * n.vpr + c / d, e = c % d;
      float acc = 0.0f;
      for (size_t m = 0; m < m_count; ++m) acc = acc + alpha[m] * b.entries[m][codes[v * m_count + m] * d + e];
      const uint64_t g = r * n.gpr + c / n.group;
      const double wt = weights.empty() ? 1.0 : static_cast<double>(in.importance[r * cols + c]);
      xy[g] += wt * in.w[r * cols + c] * acc;
      yy[g] += wt * acc * acc;
    }
  std::vector<float> scales(n.scales.size());
  bool f16 = true;
  for (size_t g = 0; g < scales.size(); ++g) {
    // A negative or zero fit would flip or erase the group: keep the RMS scale then.
    const double fit = yy[g] > 0 ? xy[g] / yy[g] : 0.0;
    scales[g] = fit > 0 ? static_cast<float>(fit) : n.scales[g];
    f16 = f16 && FitsF16(RoundF16(scales[g]));
  }
  CodebookCodes c;
  c.layout.rows = in.rows;
  c.layout.dim = d;
  c.layout.group_size = s.group_size;
  c.layout.scale_dtype = f16 ? DType::kF16 : DType::kF32;
  c.layout.index_bytes = b.k > 256 ? 2 : 1;
  c.coefficients = alpha;
  c.scales.resize(scales.size() * (f16 ? 2 : 4));
  for (size_t g = 0; g < scales.size(); ++g) {
    if (f16)
      StoreLE16(c.scales.data() + 2 * g, FloatToHalf(scales[g]));
    else
      StoreLE32(c.scales.data() + 4 * g, FloatBits(scales[g]));
  }
  c.indices.assign(m_count, std::vector<uint8_t>(nv * c.layout.index_bytes));
  for (size_t m = 0; m < m_count; ++m)
    for (size_t v = 0; v < nv; ++v) {
      const uint32_t j = codes[v * m_count + m];
      if (c.layout.index_bytes == 1)
        c.indices[m][v] = static_cast<uint8_t>(j);
      else
        StoreLE16(c.indices[m].data() + 2 * v, static_cast<uint16_t>(j));
    }
  *out = std::move(c);
  return Status::Ok();
}

}  // namespace sdc
