#include "encoder/enc_kmeans.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <vector>

namespace sdc {
namespace {

std::vector<float> Gaussian(size_t count, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(count);
  for (float& f : v) f = dist(gen);
  return v;
}

// `clusters` well-separated blobs (centres 100 apart on a random grid, noise 1), points in random order;
// truth[i] is the blob of point i.
std::vector<float> Blobs(size_t n, size_t d, size_t clusters, uint32_t seed, std::vector<uint32_t>* truth) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::uniform_int_distribution<int> cell(-5, 5);
  std::vector<float> centres(clusters * d);
  std::set<std::vector<int>> used;
  for (size_t c = 0; c < clusters; ++c) {
    std::vector<int> g(d);
    do {
      for (int& v : g) v = cell(gen);
    } while (!used.insert(g).second);
    for (size_t t = 0; t < d; ++t) centres[c * d + t] = 100.0f * static_cast<float>(g[t]);
  }
  std::vector<float> x(n * d);
  truth->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = i % clusters;
    (*truth)[i] = static_cast<uint32_t>(c);
    for (size_t t = 0; t < d; ++t) x[i * d + t] = centres[c * d + t] + noise(gen);
  }
  return x;
}

double Dist2(const float* a, const float* b, size_t d) {
  double s = 0;
  for (size_t t = 0; t < d; ++t) s += (static_cast<double>(a[t]) - b[t]) * (static_cast<double>(a[t]) - b[t]);
  return s;
}

// Every point's assigned centroid is the nearest one, up to float rounding of the distance arithmetic.
void ExpectNearest(const std::vector<float>& x, size_t d, const KMeansResult& r) {
  const size_t n = x.size() / d, k = r.centroids.size() / d;
  for (size_t i = 0; i < n; ++i) {
    double best = std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < k; ++j) best = std::min(best, Dist2(&x[i * d], &r.centroids[j * d], d));
    const double got = Dist2(&x[i * d], &r.centroids[r.assign[i] * d], d);
    ASSERT_LE(got, best + 1e-5 * (1.0 + best)) << "point " << i;
  }
}

TEST(KMeans, RecoversSeparatedClustersExactly) {
  // With k-means++ seeding (random seeding can put two seeds in one blob: a local optimum).
  for (size_t d : {2u, 8u, 16u}) {
    std::vector<uint32_t> truth;
    const size_t n = 3000, k = 12;
    const std::vector<float> x = Blobs(n, d, k, 5 + static_cast<uint32_t>(d), &truth);
    for (uint64_t seed : {1, 2, 3, 4}) {
      KMeansOptions o;
      o.k = static_cast<int>(k);
      o.iterations = 20;
      o.seed = seed;
      KMeansResult r;
      ASSERT_TRUE(KMeans(x, d, {}, o, &r).ok());
      // A bijection between blobs and clusters.
      std::map<uint32_t, uint32_t> blob_to_cluster;
      std::set<uint32_t> clusters;
      for (size_t i = 0; i < n; ++i) {
        auto [it, fresh] = blob_to_cluster.emplace(truth[i], r.assign[i]);
        ASSERT_EQ(it->second, r.assign[i]) << "blob " << truth[i] << " split (d=" << d << ", seed " << seed << ")";
        if (fresh) {
          ASSERT_TRUE(clusters.insert(r.assign[i]).second) << "two blobs merged (d=" << d << ", seed " << seed << ")";
        }
      }
      EXPECT_EQ(clusters.size(), k);
      // Centroids are the blob means.
      for (const auto& [blob, c] : blob_to_cluster) {
        std::vector<double> mean(d, 0.0);
        size_t cnt = 0;
        for (size_t i = 0; i < n; ++i)
          if (truth[i] == blob) {
            ++cnt;
            for (size_t t = 0; t < d; ++t) mean[t] += x[i * d + t];
          }
        for (size_t t = 0; t < d; ++t) EXPECT_NEAR(r.centroids[c * d + t], mean[t] / cnt, 1e-3);
      }
      EXPECT_NEAR(r.mse, 1.0, 0.1);  // the noise variance
    }
  }
}

TEST(KMeans, WeightsPullCentroidsTowardHeavyPoints) {
  // One cluster: the centroid is the weighted mean.
  {
    const std::vector<float> x = {0.0f, 10.0f}, w = {1.0f, 9.0f};
    KMeansOptions o;
    o.k = 1;
    KMeansResult r;
    ASSERT_TRUE(KMeans(x, 1, w, o, &r).ok());
    EXPECT_FLOAT_EQ(r.centroids[0], 9.0f);
    EXPECT_NEAR(r.mse, (1 * 81.0 + 9 * 1.0) / 10.0, 1e-9);
  }
  // Two blobs; in each, one heavy point drags its centroid away from the unweighted mean.
  std::vector<uint32_t> truth;
  const size_t d = 4, n = 400;
  const std::vector<float> x = Blobs(n, d, 2, 11, &truth);
  std::vector<float> w(n, 1.0f);
  w[0] = 1000.0f;  // blob 0
  w[1] = 1000.0f;  // blob 1
  KMeansOptions o;
  o.k = 2;
  KMeansResult plain, weighted;
  ASSERT_TRUE(KMeans(x, d, {}, o, &plain).ok());
  ASSERT_TRUE(KMeans(x, d, w, o, &weighted).ok());
  for (size_t heavy : {0u, 1u}) {
    const uint32_t cp = plain.assign[heavy], cw = weighted.assign[heavy];
    const double before = Dist2(&x[heavy * d], &plain.centroids[cp * d], d);
    const double after = Dist2(&x[heavy * d], &weighted.centroids[cw * d], d);
    EXPECT_LT(after, 0.05 * before) << "heavy point " << heavy;
  }
}

TEST(KMeans, IdenticalForAnyThreadCount) {
  const size_t d = 8, n = 30000;
  std::vector<float> x = Gaussian(n * d, 3);
  const std::vector<float> heavy = Gaussian(n * d / 2, 4, 4.0f);  // a heavier-tailed half
  for (size_t i = 0; i < heavy.size(); ++i) x[i] = heavy[i] * std::fabs(heavy[i]);
  std::vector<float> w = Gaussian(n, 9);
  for (float& v : w) v = std::fabs(v);
  const int saved = omp_get_max_threads();
  for (bool weighted : {false, true})
    for (auto init : {KMeansOptions::Init::kPlusPlus, KMeansOptions::Init::kRandom}) {
      KMeansOptions o;
      o.k = 300;
      o.iterations = 8;
      o.init = init;
      o.seed = 42;
      const std::span<const float> ws = weighted ? std::span<const float>(w) : std::span<const float>();
      KMeansResult ref;
      std::vector<double> ref_mse;
      for (int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        KMeansResult r;
        std::vector<double> mse;
        o.progress = [&](int, double m) { mse.push_back(m); };
        ASSERT_TRUE(KMeans(x, d, ws, o, &r).ok());
        if (threads == 1) {
          ref = r;
          ref_mse = mse;
          continue;
        }
        EXPECT_EQ(r.centroids, ref.centroids) << threads << " threads";
        EXPECT_EQ(r.assign, ref.assign) << threads << " threads";
        EXPECT_EQ(r.mse, ref.mse) << threads << " threads";
        EXPECT_EQ(mse, ref_mse) << threads << " threads";
        std::vector<uint32_t> a1(n), a2(n);
        std::vector<float> d1(n), d2(n);
        omp_set_num_threads(1);
        AssignNearest(x, d, r.centroids, a1, d1);
        omp_set_num_threads(threads);
        AssignNearest(x, d, r.centroids, a2, d2);
        EXPECT_EQ(a1, a2);
        EXPECT_EQ(d1, d2);
      }
    }
  omp_set_num_threads(saved);
}

TEST(KMeans, NoEmptyClusterWhenEnoughDistinctPoints) {
  // Few natural clusters, many more centroids, and duplicated points: empties appear and must be filled.
  std::vector<uint32_t> truth;
  const size_t d = 2;
  std::vector<float> x = Blobs(600, d, 3, 21, &truth);
  x.insert(x.end(), x.begin(), x.begin() + 200 * d);  // 200 duplicates
  for (int k : {50, 300, 600}) {
    for (auto init : {KMeansOptions::Init::kPlusPlus, KMeansOptions::Init::kRandom}) {
      KMeansOptions o;
      o.k = k;
      o.iterations = 10;
      o.init = init;
      KMeansResult r;
      ASSERT_TRUE(KMeans(x, d, {}, o, &r).ok());
      std::vector<int> count(k, 0);
      for (uint32_t a : r.assign) ++count[a];
      for (int j = 0; j < k; ++j) EXPECT_GT(count[j], 0) << "cluster " << j << " of " << k;
      ExpectNearest(x, d, r);
    }
  }
}

TEST(KMeans, AsManyClustersAsDistinctPoints) {
  // 100 distinct points, each 5 times: with k = 100 every cluster must hold one distinct point, even with
  // no iteration at all (random seeds drawn among duplicates leave many clusters empty at first).
  const size_t d = 2, distinct = 100;
  const std::vector<float> base = Gaussian(distinct * d, 90);
  std::vector<float> x;
  for (int copy = 0; copy < 5; ++copy) x.insert(x.end(), base.begin(), base.end());
  for (int iterations : {0, 1, 5})
    for (auto init : {KMeansOptions::Init::kPlusPlus, KMeansOptions::Init::kRandom}) {
      KMeansOptions o;
      o.k = static_cast<int>(distinct);
      o.iterations = iterations;
      o.init = init;
      KMeansResult r;
      ASSERT_TRUE(KMeans(x, d, {}, o, &r).ok());
      EXPECT_EQ(std::set<uint32_t>(r.assign.begin(), r.assign.end()).size(), distinct);
      for (size_t i = distinct; i < r.assign.size(); ++i) EXPECT_EQ(r.assign[i], r.assign[i % distinct]);
      // Without an update the centroids are data points. (After updates, a centroid may still be the mean
      // of two points that the last assignment separated.)
      if (iterations == 0) {
        EXPECT_EQ(r.mse, 0.0) << "init " << static_cast<int>(init);
      }
    }
}

TEST(KMeans, KAtLeastN) {
  const size_t d = 3;
  std::vector<float> x = Gaussian(5 * d, 12);
  std::copy(x.begin(), x.begin() + d, x.begin() + 4 * d);  // point 4 repeats point 0
  for (int k : {5, 8}) {
    KMeansOptions o;
    o.k = k;
    KMeansResult r;
    ASSERT_TRUE(KMeans(x, d, {}, o, &r).ok());
    ASSERT_EQ(r.centroids.size(), static_cast<size_t>(k) * d);
    for (size_t i = 0; i < 5 * d; ++i) EXPECT_EQ(r.centroids[i], x[i]);
    for (size_t i = 5 * d; i < r.centroids.size(); ++i) EXPECT_EQ(r.centroids[i], 0.0f);
    EXPECT_EQ(r.assign, (std::vector<uint32_t>{0, 1, 2, 3, 0}));  // the duplicate goes to the first copy
    EXPECT_EQ(r.mse, 0.0);
  }
}

TEST(KMeans, Dimensions) {
  for (size_t d : {1u, 2u, 3u, 4u, 8u, 16u, 20u}) {
    const size_t n = 6000;
    const std::vector<float> x = Gaussian(n * d, 30 + static_cast<uint32_t>(d));
    KMeansOptions o;
    o.k = 100;
    o.iterations = 6;
    KMeansResult r;
    std::vector<double> mse;
    o.progress = [&](int, double m) { mse.push_back(m); };
    ASSERT_TRUE(KMeans(x, d, {}, o, &r).ok()) << d;
    ASSERT_EQ(r.centroids.size(), 100 * d);
    ASSERT_EQ(r.assign.size(), n);
    ExpectNearest(x, d, r);
    // The returned assignment is AssignNearest's, and the MSE is the exact one.
    std::vector<uint32_t> a(n);
    std::vector<float> dist2(n);
    AssignNearest(x, d, r.centroids, a, dist2);
    double e = 0;
    size_t differ = 0;
    for (size_t i = 0; i < n; ++i) {
      differ += a[i] != r.assign[i];
      e += Dist2(&x[i * d], &r.centroids[r.assign[i] * d], d);
      EXPECT_NEAR(dist2[i], Dist2(&x[i * d], &r.centroids[a[i] * d], d), 1e-5 * (1 + dist2[i]));
    }
    EXPECT_LE(differ, n / 1000) << "only float near-ties may differ (d=" << d << ")";
    EXPECT_NEAR(r.mse, e / (n * d), 1e-9 * r.mse);
    EXPECT_EQ(mse.back(), r.mse);
    EXPECT_LT(r.mse, mse.front());
  }
}

TEST(KMeans, MseNeverIncreases) {
  const size_t d = 4, n = 20000;
  std::vector<float> x = Gaussian(n * d, 77);
  for (size_t i = 0; i < n * d; i += 3) x[i] = x[i] * x[i] * x[i];  // heavy tails
  std::vector<float> w = Gaussian(n, 78);
  for (float& v : w) v = v * v;
  for (bool weighted : {false, true}) {
    KMeansOptions o;
    o.k = 200;
    o.iterations = 25;
    std::vector<std::pair<int, double>> calls;
    o.progress = [&](int it, double m) { calls.push_back({it, m}); };
    KMeansResult r;
    ASSERT_TRUE(KMeans(x, d, weighted ? std::span<const float>(w) : std::span<const float>(), o, &r).ok());
    ASSERT_FALSE(calls.empty());
    EXPECT_EQ(calls.back().second, r.mse);
    EXPECT_EQ(static_cast<int>(calls.size()), r.iterations_run + 1);
    for (size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(calls[i].first, static_cast<int>(i));
      if (i > 0) {
        EXPECT_LE(calls[i].second, calls[i - 1].second * (1 + 1e-6)) << "iteration " << i;
      }
    }
  }
}

TEST(KMeans, StopsAtAFixedPoint) {
  std::vector<uint32_t> truth;
  const std::vector<float> x = Blobs(500, 3, 5, 8, &truth);
  KMeansOptions o;
  o.k = 5;
  o.iterations = 50;
  KMeansResult r;
  ASSERT_TRUE(KMeans(x, 3, {}, o, &r).ok());
  EXPECT_LT(r.iterations_run, 50);
  // Running exactly that many updates gives the same result.
  KMeansOptions o2 = o;
  o2.iterations = r.iterations_run;
  KMeansResult r2;
  ASSERT_TRUE(KMeans(x, 3, {}, o2, &r2).ok());
  EXPECT_EQ(r.centroids, r2.centroids);
  EXPECT_EQ(r.assign, r2.assign);
}

TEST(KMeans, SeedsAreReproducibleAndDiffer) {
  const size_t d = 8;
  const std::vector<float> x = Gaussian(4000 * d, 55);
  KMeansOptions o;
  o.k = 64;
  o.iterations = 3;
  KMeansResult a, b, c;
  ASSERT_TRUE(KMeans(x, d, {}, o, &a).ok());
  ASSERT_TRUE(KMeans(x, d, {}, o, &b).ok());
  o.seed = 2;
  ASSERT_TRUE(KMeans(x, d, {}, o, &c).ok());
  EXPECT_EQ(a.centroids, b.centroids);
  EXPECT_NE(a.centroids, c.centroids);
  std::vector<float> seeds;
  o.seed = 1;
  KMeansSeeds(x, d, {}, o, &seeds);
  o.iterations = 0;
  KMeansResult z;
  ASSERT_TRUE(KMeans(x, d, {}, o, &z).ok());
  EXPECT_EQ(z.centroids, seeds);
}

TEST(AssignNearest, TiesGoToTheLowestIndex) {
  // Centroids 1 and 3 equal, 0 and 2 farther: every point goes to 1.
  const size_t d = 2;
  const std::vector<float> c = {5, 5, 1, 1, 9, 9, 1, 1};
  const std::vector<float> x = {1, 1, 1.5f, 1, 0.5f, 1.25f};
  std::vector<uint32_t> a(3);
  std::vector<float> dist2(3);
  AssignNearest(x, d, c, a, dist2);
  EXPECT_EQ(a, (std::vector<uint32_t>{1, 1, 1}));
  EXPECT_EQ(dist2[0], 0.0f);
  EXPECT_FLOAT_EQ(dist2[1], 0.25f);
  // Equidistant from 0 and 1: the lower index.
  const std::vector<float> c2 = {0, 0, 2, 0}, x2 = {1, 0};
  std::vector<uint32_t> a2(1);
  AssignNearest(x2, d, c2, a2, {});
  EXPECT_EQ(a2[0], 0u);
  // Many centroids, the nearest duplicated at a high and a low index.
  const std::vector<float> p = Gaussian(1000 * d, 66);
  std::vector<float> cc = Gaussian(500 * d, 67);
  std::copy(cc.begin() + 450 * d, cc.begin() + 451 * d, cc.begin() + 20 * d);
  std::vector<uint32_t> pa(1000);
  AssignNearest(p, d, cc, pa, {});
  for (uint32_t v : pa) EXPECT_NE(v, 450u);
}

TEST(KMeans, RejectsBadInput) {
  KMeansOptions o;
  o.k = 2;
  KMeansResult r;
  const std::vector<float> x = {0, 1, 2, 3};
  EXPECT_EQ(KMeans(x, 0, {}, o, &r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KMeans(x, 3, {}, o, &r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KMeans({}, 2, {}, o, &r).code(), StatusCode::kInvalidArgument);
  const std::vector<float> nan = {0, std::nanf(""), 2, 3};
  EXPECT_EQ(KMeans(nan, 2, {}, o, &r).code(), StatusCode::kInvalidArgument);
  const std::vector<float> neg = {1, -1}, zero = {0, 0}, one = {1};
  EXPECT_EQ(KMeans(x, 2, neg, o, &r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KMeans(x, 2, zero, o, &r).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KMeans(x, 2, one, o, &r).code(), StatusCode::kInvalidArgument);
  o.k = 0;
  EXPECT_EQ(KMeans(x, 2, {}, o, &r).code(), StatusCode::kInvalidArgument);
  o.k = 2;
  o.iterations = -1;
  EXPECT_EQ(KMeans(x, 2, {}, o, &r).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sdc
