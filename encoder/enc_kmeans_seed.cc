// k-means seeding (enc_kmeans.h KMeansSeeds): k-means++ over a sample, or k distinct random points.
// Sequential and driven by enc_kmeans_rng.h, so every back end starts from the same centroids.
#include <algorithm>
#include <cstring>
#include <utility>

#include "encoder/enc_kmeans.h"
#include "encoder/enc_kmeans_rng.h"

namespace sdc {
namespace {

using kmeans::Rng;
using kmeans::SampleIndices;

inline float Dist2F(const float* a, const float* b, size_t d) {
  float s = 0;
  for (size_t t = 0; t < d; ++t) {
    const float v = a[t] - b[t];
    s += v * v;
  }
  return s;
}

// k-means++ over a uniform sample of at most kPlusPlusSamplePerCentroid * k points: each next centre is
// drawn with probability proportional to weight * (squared distance to the nearest centre so far).
// Sequential, so the draws cannot depend on threads, and pruned with the triangle inequality: sample
// points are kept in buckets by nearest centre (stored contiguously), sorted by decreasing distance; a
// point at squared distance D from its centre c_b cannot get nearer to a new centre c unless
// |c - c_b|^2 < 4D, so a bucket is visited only down to the first point that fails this.
struct SeedBucket {
  size_t d = 0;
  std::vector<float> x, dmin, w;  // x: size * d
  std::vector<uint32_t> id;       // sample index (for the deterministic order of equal distances)
  double sum = 0;                 // sum of w * dmin, in list order
  size_t size() const { return id.size(); }
  void Push(const float* xi, float dm, float wi, uint32_t i) {
    x.insert(x.end(), xi, xi + d);
    dmin.push_back(dm);
    w.push_back(wi);
    id.push_back(i);
  }
  void Resize(size_t s) {
    x.resize(s * d);
    dmin.resize(s);
    w.resize(s);
    id.resize(s);
  }
  void Shrink() {
    x.shrink_to_fit();
    dmin.shrink_to_fit();
    w.shrink_to_fit();
    id.shrink_to_fit();
  }
  void Sum() {
    sum = 0;
    for (size_t q = 0; q < size(); ++q) sum += static_cast<double>(w[q]) * dmin[q];
  }
  // Sorts by decreasing dmin, then increasing sample index.
  void Sort() {
    std::vector<uint32_t> perm(size());
    for (size_t q = 0; q < perm.size(); ++q) perm[q] = static_cast<uint32_t>(q);
    std::sort(perm.begin(), perm.end(),
              [&](uint32_t a, uint32_t b) { return dmin[a] > dmin[b] || (dmin[a] == dmin[b] && id[a] < id[b]); });
    SeedBucket s;
    s.d = d;
    s.x.resize(x.size());
    s.dmin.resize(size());
    s.w.resize(size());
    s.id.resize(size());
    for (size_t q = 0; q < perm.size(); ++q) {
      std::memcpy(s.x.data() + q * d, x.data() + static_cast<size_t>(perm[q]) * d, d * sizeof(float));
      s.dmin[q] = dmin[perm[q]];
      s.w[q] = w[perm[q]];
      s.id[q] = id[perm[q]];
    }
    x.swap(s.x);
    dmin.swap(s.dmin);
    w.swap(s.w);
    id.swap(s.id);
  }
};

void SeedPlusPlus(const float* x, size_t n, size_t d, std::span<const float> w, size_t k, Rng& rng,
                  std::vector<float>* centroids) {
  const std::vector<uint32_t> sample = SampleIndices(n, std::min(n, kPlusPlusSamplePerCentroid * k), rng);
  const size_t m = sample.size();
  std::vector<SeedBucket> buckets;
  buckets.reserve(k);
  std::vector<float> cbyd(d * k);           // centres by dimension, for the centre-to-centre distances
  std::vector<float> cc(k), c(d), maxd(k);  // maxd: a bucket's largest dmin (-1 when empty)
  centroids->assign(k * d, 0.0f);

  // First centre: proportional to the weights.
  size_t first = m - 1;
  {
    double total = 0;
    for (size_t i = 0; i < m; ++i) total += w.empty() ? 1.0 : w[sample[i]];
    const double r = rng.Uniform() * total;
    double run = 0;
    for (size_t i = 0; i < m; ++i) {
      const float wi = w.empty() ? 1.0f : w[sample[i]];
      run += wi;
      if (wi > 0 && run > r) {
        first = i;
        break;
      }
    }
  }
  std::memcpy(c.data(), x + static_cast<size_t>(sample[first]) * d, d * sizeof(float));
  for (size_t j = 0;; ++j) {
    std::memcpy(centroids->data() + j * d, c.data(), d * sizeof(float));
    for (size_t t = 0; t < d; ++t) cbyd[t * k + j] = c[t];
    SeedBucket nb;
    nb.d = d;
    if (j == 0) {
      for (size_t i = 0; i < m; ++i) {
        const float* xi = x + static_cast<size_t>(sample[i]) * d;
        nb.Push(xi, Dist2F(xi, c.data(), d), w.empty() ? 1.0f : w[sample[i]], static_cast<uint32_t>(i));
      }
    } else {
      std::fill(cc.begin(), cc.begin() + j, 0.0f);
      for (size_t t = 0; t < d; ++t) {
        const float* ct = cbyd.data() + t * k;
        for (size_t b = 0; b < j; ++b) {
          const float v = ct[b] - c[t];
          cc[b] += v * v;
        }
      }
      for (size_t b = 0; b < j; ++b) {
        // A point with dmin <= |c - c_b|^2 / 4 cannot move (margin for the float rounding).
        const float lim = static_cast<float>(static_cast<double>(cc[b]) * (0.25 * (1.0 - 1e-5)));
        if (maxd[b] <= lim) continue;
        SeedBucket& bk = buckets[b];
        size_t q = 0, kept = 0;
        for (; q < bk.size() && bk.dmin[q] > lim; ++q) {
          const float* xq = bk.x.data() + q * d;
          const float e = Dist2F(xq, c.data(), d);
          if (e < bk.dmin[q]) {
            nb.Push(xq, e, bk.w[q], bk.id[q]);
          } else {
            if (kept != q) {
              std::memmove(bk.x.data() + kept * d, xq, d * sizeof(float));
              bk.dmin[kept] = bk.dmin[q];
              bk.w[kept] = bk.w[q];
              bk.id[kept] = bk.id[q];
            }
            ++kept;
          }
        }
        if (kept == q) continue;  // nothing moved
        const size_t tail = bk.size() - q;
        std::memmove(bk.x.data() + kept * d, bk.x.data() + q * d, tail * d * sizeof(float));
        std::memmove(bk.dmin.data() + kept, bk.dmin.data() + q, tail * sizeof(float));
        std::memmove(bk.w.data() + kept, bk.w.data() + q, tail * sizeof(float));
        std::memmove(bk.id.data() + kept, bk.id.data() + q, tail * sizeof(uint32_t));
        bk.Resize(kept + tail);
        if (bk.size() < bk.id.capacity() / 4) bk.Shrink();
        bk.Sum();
        maxd[b] = bk.size() ? bk.dmin[0] : -1.0f;
      }
    }
    nb.Sort();
    nb.Sum();
    maxd[j] = nb.size() ? nb.dmin[0] : -1.0f;
    buckets.push_back(std::move(nb));
    if (j + 1 == k) break;

    // Next centre: bucket by bucket, then point by point within the bucket.
    double total = 0;
    for (const SeedBucket& b : buckets) total += b.sum;
    if (!(total > 0)) {  // every sample point is already a centre
      std::memcpy(c.data(), x + static_cast<size_t>(sample[rng.Below(m)]) * d, d * sizeof(float));
      continue;
    }
    double r = rng.Uniform() * total;
    size_t b = 0, blast = buckets.size() - 1;
    while (!(buckets[blast].sum > 0)) --blast;
    while (b < blast && r >= buckets[b].sum) r -= buckets[b++].sum;
    const SeedBucket& bk = buckets[b];
    double run = 0;
    size_t pick = 0;
    for (size_t q = 0; q < bk.size(); ++q) {
      const double p = static_cast<double>(bk.w[q]) * bk.dmin[q];
      if (p <= 0) continue;
      pick = q;
      run += p;
      if (run > r) break;
    }
    std::memcpy(c.data(), bk.x.data() + pick * d, d * sizeof(float));
  }
}

void SeedRandom(const float* x, size_t n, size_t d, size_t k, Rng& rng, std::vector<float>* centroids) {
  const std::vector<uint32_t> pick = SampleIndices(n, k, rng);
  centroids->resize(k * d);
  for (size_t j = 0; j < k; ++j)
    std::memcpy(centroids->data() + j * d, x + static_cast<size_t>(pick[j]) * d, d * sizeof(float));
}

}  // namespace

void KMeansSeeds(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                 std::vector<float>* centroids) {
  Rng rng{opt.seed};
  const size_t n = x.size() / d, k = static_cast<size_t>(opt.k);
  if (opt.init == KMeansOptions::Init::kPlusPlus)
    SeedPlusPlus(x.data(), n, d, weights, k, rng, centroids);
  else
    SeedRandom(x.data(), n, d, k, rng, centroids);
}

}  // namespace sdc
