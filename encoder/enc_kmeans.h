// Deterministic multi-threaded k-means (Lloyd) for codebook training.
//
// Same input, options and machine give bit-identical output for any OpenMP thread count:
//  * assignment is computed per point, in an order that does not depend on the thread;
//  * centroid sums are taken per cluster over its points in increasing point order (the points are first
//    stably bucketed by cluster), accumulated in double;
//  * argmin ties go to the lowest centroid index;
//  * seeding uses a splitmix64 generator seeded by KMeansOptions::seed.
// Results may differ between CPUs (the distance kernel is chosen at run time: AVX-512, AVX2+FMA or
// portable code), never between thread counts.
//
// Assignment uses ||c||^2 - 2 x.c (+ ||x||^2) computed by a register-blocked kernel over a tile of points
// and 16 centroids at a time (coordinates centred on the data mean to keep the cancellation small), and
// Hamerly's bounds (one upper bound per point, one lower bound on the second-nearest distance, and half
// the distance from each centroid to its nearest neighbour) to skip points whose assignment cannot change.
// Reported distances and errors are recomputed exactly as sum (x - c)^2 for the chosen centroid.
//
// Empty clusters: after each assignment, clusters that received no point (or only zero-weight points
// with no point at all) are re-seeded in increasing index order, each with the point of largest weighted
// error w * |x - c|^2 of the not-yet-used cluster with the largest weighted error (a cluster donates at
// most one point per iteration; ties to the lowest index). After the last iteration the same rule is
// applied with an exact reassignment towards each re-seeded centroid, so when the data holds at least k
// distinct points no returned cluster is empty. Clusters holding only zero-weight points keep their
// previous centroid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "format/status.h"

namespace sdc {

struct KMeansOptions {
  int k = 256;
  int iterations = 20;  // centroid updates; assignment passes = iterations + 1 (the last one is returned)
  uint64_t seed = 1;
  // kPlusPlus: k-means++ (D^2 weighting, times the point weights) on a uniform sample of at most
  // kPlusPlusSamplePerCentroid * k points. kRandom: k distinct points drawn uniformly.
  enum class Init { kPlusPlus, kRandom } init = Init::kPlusPlus;
  // Called after every assignment pass with the weighted MSE of the centroids just used for it:
  // iteration 0 is the initial centroids, iteration i the centroids after i updates. The last call
  // reports out->mse. Lloyd's iterations never increase it (up to float rounding).
  std::function<void(int, double)> progress;
};

inline constexpr size_t kPlusPlusSamplePerCentroid = 64;

struct KMeansResult {
  std::vector<float> centroids;  // k * d (k >= n: the first n are the points in order, the rest zero)
  std::vector<uint32_t> assign;  // n: index of the nearest centroid (ties: lowest index)
  double mse = 0;                // sum_i w_i |x_i - c(i)|^2 / (d * sum_i w_i); w = 1 when unweighted
  int iterations_run = 0;        // updates done (< iterations when a fixed point was reached first)
};

// x: n = x.size() / d points of dimension d, row-major, finite. weights: empty, or n finite non-negative
// importances with a positive sum (weighted centroid means, weighted error and seeding).
Status KMeans(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
              KMeansResult* out);

// Nearest centroid (ties: lowest index) of each of the n = x.size() / d points among the
// centroids.size() / d centroids, and its squared distance (exact sum of (x - c)^2). assign and dist2
// hold n entries; dist2 may be empty.
void AssignNearest(std::span<const float> x, size_t d, std::span<const float> centroids, std::span<uint32_t> assign,
                   std::span<float> dist2);

}  // namespace sdc
