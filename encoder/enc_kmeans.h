// Deterministic multi-threaded k-means (Lloyd) for codebook training.
//
// Same input, options and machine give bit-identical output for any OpenMP thread count:
//  * each point's assignment is computed from that point, its cluster and the centroids only, never from
//    how points are split between threads;
//  * centroid sums are taken per cluster over its points in increasing point order (the points are first
//    stably bucketed by cluster), accumulated in double;
//  * argmin ties go to the lowest centroid index;
//  * seeding is sequential, driven by a splitmix64 generator seeded by KMeansOptions::seed.
// Results may differ between CPUs (the distance kernel is chosen at run time: AVX-512, AVX2+FMA or
// portable code; SDC_KMEANS_ISA=avx2|generic forces a lower one), never between thread counts.
//
// Distances are computed directly, sum_t (x_t - c_t)^2 in float, by a kernel that holds 16 points (one per
// SIMD lane) and runs over the centroids: the rounding error is relative to the distance itself (unlike the
// GEMM form |c|^2 - 2 x.c), and the subtractions run beside the FMAs. The first assignment scans every
// centroid. After each update, a point of cluster a with u = |x - c_a| can only move to a centroid within 2u
// of c_a (triangle inequality), so each cluster's members, sorted by u, are scanned in tiles against the
// centroids near c_a only, in index order (a tile that would need most centroids scans all); the result is
// the one a full scan gives. Reported distances and errors are recomputed as sum (x - c)^2 in double.
//
// Empty clusters: after each assignment, clusters that received no point are re-seeded in increasing
// index order, each with the farthest point (unweighted distance, ties to the lowest index) of a different
// donor cluster (a cluster of at least two points, in decreasing order of weighted error, ties to the
// lowest index; a cluster donates at most one point per iteration). After the last iteration the same rule
// runs again, followed by a full reassignment, until no cluster is empty or no donor is left (at most 16
// rounds), so when the data holds at least k distinct points no returned cluster is empty. Clusters whose
// points all have zero weight keep their previous centroid.
//
// Files: enc_kmeans_loop.h (the loop and its rules, shared with the GPU path), enc_kmeans_cpu.cc (the CPU
// passes, KMeans, AssignNearest), enc_kmeans_simd.h (distance kernels and their run-time choice),
// enc_kmeans_seed.cc (seeding), enc_kmeans_rng.h (its random numbers).
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

inline constexpr size_t kPlusPlusSamplePerCentroid = 16;

struct KMeansResult {
  std::vector<float> centroids;  // k * d (k >= n: the first n are the points in order, the rest zero)
  std::vector<uint32_t> assign;  // n: nearest centroid by q (float rounding aside: exact); ties: lowest index
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

// The initial centroids KMeans starts from for (x, d, weights, opt) when opt.k < n (k * d values), on every
// device. Inputs as checked by KMeans.
void KMeansSeeds(std::span<const float> x, size_t d, std::span<const float> weights, const KMeansOptions& opt,
                 std::vector<float>* centroids);

}  // namespace sdc
